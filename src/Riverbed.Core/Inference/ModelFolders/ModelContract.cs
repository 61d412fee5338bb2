namespace Riverbed.Inference.ModelFolders;

/// <summary>Where each NLI class sits in the logits, resolved from id2label.</summary>
public readonly record struct NliLabelIndices(int Entailment, int Neutral, int Contradiction);

/// <summary>What a checked model folder promises the code that feeds it and reads its outputs.</summary>
public sealed class ModelContract
{
    internal ModelContract()
    {
    }

    public required TensorElementType InputIdsType { get; init; }

    public required TensorElementType AttentionMaskType { get; init; }

    /// <summary>The element type of token_type_ids, or null when the model takes no token_type_ids.</summary>
    public TensorElementType? TokenTypeIdsType { get; init; }

    public bool HasTokenTypeIds => TokenTypeIdsType is not null;

    /// <summary>The three input types together, as <see cref="ModelInputBatch"/> takes them.</summary>
    public ContractInputTypes InputTypes => new(InputIdsType, AttentionMaskType, TokenTypeIdsType);

    /// <summary>The output holding the logits (usually "logits").</summary>
    public required string LogitsName { get; init; }

    public required TensorElementType LogitsType { get; init; }

    /// <summary>The model's vocabulary: the logits' last axis for an MLM, config.json vocab_size otherwise (when given).</summary>
    public long? ModelVocabularySize { get; init; }

    /// <summary>The tokenizer's vocabulary size the folder was checked against.</summary>
    public int? TokenizerVocabularySize { get; init; }

    /// <summary>id2label in id order (nli and ner); empty for mlm and rtd.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>The NLI classes' positions, for an nli model.</summary>
    public NliLabelIndices? NliLabels { get; init; }

    /// <summary>rtd only: the logits keep a trailing axis of size 1 ([batch, sequence, 1]).</summary>
    public bool LogitsHaveTrailingAxis { get; init; }

    /// <summary>The input shape of the probe Run and the logits shape it produced.</summary>
    public required IReadOnlyList<long> ProbeInputShape { get; init; }

    public required IReadOnlyList<long> ProbeLogitsShape { get; init; }
}
