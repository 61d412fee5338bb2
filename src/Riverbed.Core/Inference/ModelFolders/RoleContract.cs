namespace Riverbed.Inference.ModelFolders;

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
