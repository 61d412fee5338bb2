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

public static class ModelRoles
{
    /// <summary>The short names the CLI and reports use, in enum order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mlm", "nli", "rtd", "ner"];

    public static string Name(this ModelRole role) => Names[(int)role];

    public static bool TryParse(string? name, out ModelRole role)
    {
        var index = name is null ? -1 : Names.ToList().IndexOf(name.Trim().ToLowerInvariant());
        role = index < 0 ? default : (ModelRole)index;
        return index >= 0;
    }

    /// <summary>
    /// The role a Hugging Face architecture name implies (RobertaForMaskedLM → mlm, …), or null when it implies none.
    /// Only ELECTRA's ForPreTraining head is a replaced-token detector; BERT's is a masked LM plus next-sentence head.
    /// </summary>
    public static ModelRole? FromArchitecture(string architecture, string? modelType)
    {
        if (architecture.EndsWith("ForMaskedLM", StringComparison.Ordinal))
        {
            return ModelRole.MaskedLm;
        }
        if (architecture.EndsWith("ForSequenceClassification", StringComparison.Ordinal))
        {
            return ModelRole.Nli;
        }
        if (architecture.EndsWith("ForTokenClassification", StringComparison.Ordinal))
        {
            return ModelRole.TokenClassification;
        }
        if (architecture == "ElectraForPreTraining" ||
            (architecture.EndsWith("ForPreTraining", StringComparison.Ordinal) && string.Equals(modelType, "electra", StringComparison.OrdinalIgnoreCase)))
        {
            return ModelRole.ReplacedTokenDetection;
        }
        return null;
    }
}
