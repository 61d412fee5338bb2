namespace Riverbed.Inference.ModelFolders;

/// <summary>How to open a model folder.</summary>
public sealed class ModelFolderOptions
{
    /// <summary>The role to check the folder as; null infers it from config.json's architectures.</summary>
    public ModelRole? Role { get; init; }

    /// <summary>
    /// The size of the tokenizer's vocabulary (largest id + 1), from whatever read tokenizer.json; the model must
    /// be able to embed and (for an MLM) predict every one of those ids. Null skips the comparison.
    /// </summary>
    public int? TokenizerVocabularySize { get; init; }

    public SessionOptions Session { get; init; } = SessionOptions.Default;
}
