namespace Riverbed.Inference.ModelFolders;

/// <summary>
/// The roles as data: one <see cref="RoleContract"/> per role, read by the contract check, the probe, the model set and
/// <c>riverbed models check</c>, so a new role is one entry here.
/// </summary>
public static class ModelRoles
{
    /// <summary>The roles' contracts, in enum order.</summary>
    public static IReadOnlyList<RoleContract> Table { get; } =
    [
        new()
        {
            Role = ModelRole.MaskedLm, Name = "mlm", ArchitectureSuffixes = ["ForMaskedLM"],
            LogitsRanks = [3], LogitsShape = "[batch, sequence, vocabulary]", PerToken = true, VocabularyLogits = true,
            Labels = LabelRule.None,
        },
        new()
        {
            Role = ModelRole.Nli, Name = "nli", ArchitectureSuffixes = ["ForSequenceClassification"],
            LogitsRanks = [2], LogitsShape = "[batch, 3]", PerToken = false,
            FixedClasses = 3, FixedClassesReason = "an nli model has exactly 3 (entailment, neutral, contradiction)",
            Labels = LabelRule.Nli,
        },
        new()
        {
            // Only ELECTRA's ForPreTraining head is a replaced-token detector; BERT's is a masked LM plus next-sentence head.
            Role = ModelRole.ReplacedTokenDetection, Name = "rtd", ArchitectureSuffixes = ["ElectraForPreTraining"],
            ArchitectureModelType = "electra",
            LogitsRanks = [2, 3], LogitsShape = "[batch, sequence] or [batch, sequence, 1]", PerToken = true,
            FixedClasses = 1, FixedClassesReason = "an rtd model's trailing axis has size 1",
            Labels = LabelRule.None,
        },
        new()
        {
            Role = ModelRole.TokenClassification, Name = "ner", ArchitectureSuffixes = ["ForTokenClassification"],
            LogitsRanks = [3], LogitsShape = "[batch, sequence, labels]", PerToken = true,
            Labels = LabelRule.Bio,
        },
    ];

    /// <summary>The short names the CLI and reports use, in enum order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Table.Select(c => c.Name)];

    public static RoleContract Contract(this ModelRole role) => Table[(int)role];

    public static string Name(this ModelRole role) => role.Contract().Name;

    public static bool TryParse(string? name, out ModelRole role)
    {
        var found = name is null ? null : Table.FirstOrDefault(c => string.Equals(c.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));
        role = found?.Role ?? default;
        return found is not null;
    }

    /// <summary>The role a Hugging Face architecture name implies (RobertaForMaskedLM → mlm, …), or null when it implies none.</summary>
    public static ModelRole? FromArchitecture(string architecture, string? modelType)
    {
        foreach (var contract in Table)
        {
            if (contract.ArchitectureSuffixes.Any(s => architecture.EndsWith(s, StringComparison.Ordinal)) ||
                (contract.ArchitectureModelType is { } type && architecture.EndsWith("ForPreTraining", StringComparison.Ordinal) &&
                 string.Equals(modelType, type, StringComparison.OrdinalIgnoreCase)))
            {
                return contract.Role;
            }
        }
        return null;
    }
}
