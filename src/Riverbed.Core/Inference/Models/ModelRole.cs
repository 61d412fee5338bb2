namespace Riverbed.Inference.Models;

/// <summary>What a model folder is for, and so what its logits must look like.</summary>
public enum ModelRole
{
    /// <summary><c>mlm</c>: a masked language model; logits [batch, sequence, vocabulary].</summary>
    MaskedLm,

    /// <summary><c>nli</c>: sequence-pair classification; logits [batch, 3] over entailment, neutral, contradiction.</summary>
    Nli,

    /// <summary><c>rtd</c>: an ELECTRA discriminator (replaced-token detection); logits [batch, sequence] or [batch, sequence, 1].</summary>
    ReplacedTokenDetection,

    /// <summary><c>ner</c>: token classification with BIO labels; logits [batch, sequence, labels].</summary>
    TokenClassification,
}

/// <summary>How a role's labels (config.json id2label) must look.</summary>
public enum LabelRule
{
    /// <summary>No labels are read.</summary>
    None,

    /// <summary>Exactly entailment, neutral and contradiction, in any order and case.</summary>
    Nli,

    /// <summary>BIO tags: O, B-TYPE, I-TYPE (every I- with its B-).</summary>
    Bio,
}

/// <summary>
/// One role's contract: its names, the Hugging Face heads that imply it, the shape of its logits and its label rule.
/// <see cref="ModelRoles.Table"/> holds one per role, and everything that checks or describes a model folder reads it,
/// so a new role is one entry here (plus the code that feeds and reads it).
/// </summary>
public sealed record RoleContract
{
    public required ModelRole Role { get; init; }

    /// <summary>The short name the CLI, folders and reports use (mlm, nli, rtd, ner).</summary>
    public required string Name { get; init; }

    /// <summary>Architecture names in config.json that end with one of these imply the role.</summary>
    public required IReadOnlyList<string> ArchitectureSuffixes { get; init; }

    /// <summary>Architectures that imply the role only for this config.json model_type (ELECTRA's ForPreTraining).</summary>
    public string? ArchitectureModelType { get; init; }

    /// <summary>The ranks the logits may have.</summary>
    public required IReadOnlyList<int> LogitsRanks { get; init; }

    /// <summary>The logits' shape in words, for messages.</summary>
    public required string LogitsShape { get; init; }

    /// <summary>The logits start with [batch, sequence] (token-level) rather than [batch] (sequence-level).</summary>
    public required bool PerToken { get; init; }

    /// <summary>The last axis is the vocabulary (a masked LM).</summary>
    public bool VocabularyLogits { get; init; }

    /// <summary>The size the last axis must have when the logits have their largest rank (nli: 3, rtd: 1); null: no fixed size.</summary>
    public int? FixedClasses { get; init; }

    /// <summary>Why <see cref="FixedClasses"/> is what it is, for messages.</summary>
    public string? FixedClassesReason { get; init; }

    public required LabelRule Labels { get; init; }
}

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
