namespace Riverbed.Inference.ModelFolders;

/// <summary>A model folder that breaks the contract; <see cref="Problems"/> lists every problem found, one message each.</summary>
public sealed class ModelContractException : RiverbedException
{
    public ModelContractException()
    {
    }

    public ModelContractException(string message)
        : base(message)
    {
    }

    public ModelContractException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public ModelContractException(string folder, IReadOnlyList<string> problems)
        : base(Compose(folder, problems))
    {
        Folder = folder;
        Problems = problems;
    }

    public string Folder { get; } = string.Empty;

    public IReadOnlyList<string> Problems { get; } = [];

    private static string Compose(string folder, IReadOnlyList<string> problems) => problems.Count == 1
        ? $"model folder '{folder}': {problems[0]}"
        : $"model folder '{folder}' has {problems.Count} problems:{string.Concat(problems.Select(p => $"{Environment.NewLine}  - {p}"))}";
}
