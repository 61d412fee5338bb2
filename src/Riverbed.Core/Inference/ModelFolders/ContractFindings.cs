namespace Riverbed.Inference.ModelFolders;

/// <summary>
/// What opening and checking one model folder has found so far: problems (each breaks the contract; all are reported
/// together in one <see cref="ModelContractException"/>) and notes (worth knowing, not breaking anything).
/// </summary>
internal sealed class ContractFindings
{
    public List<string> Problems { get; } = [];

    public List<string> Notes { get; } = [];
}
