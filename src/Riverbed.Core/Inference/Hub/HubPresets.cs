using Riverbed.Inference.ModelFolders;

namespace Riverbed.Inference.Hub;

/// <summary>A repository at a revision: <c>owner/name</c> or <c>owner/name@revision</c>.</summary>
public sealed record HubReference(string Repository, string Revision)
{
    public override string ToString() => $"{Repository}@{Revision}";

    /// <summary>Parses <c>owner/name[@revision]</c>; the revision defaults to <paramref name="defaultRevision"/>.</summary>
    public static HubReference Parse(string text, string defaultRevision)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.IndexOf('@', StringComparison.Ordinal);
        var repository = (at < 0 ? text : text[..at]).Trim();
        var revision = at < 0 ? defaultRevision : text[(at + 1)..].Trim();
        if (repository.Length == 0 || revision.Length == 0)
        {
            throw new HubException($"'{text}' is not a repository reference (owner/name or owner/name@revision)");
        }
        return new HubReference(repository, revision);
    }
}

/// <summary>Which ONNX file of an export to take; the names are those of the Transformers.js exports' <c>onnx/</c> folder.</summary>
public enum OnnxVariant
{
    Fp32,
    Fp16,
    Int8,
}

public static class OnnxVariants
{
    public static IReadOnlyList<string> Names { get; } = ["fp32", "fp16", "int8"];

    public static string FilePath(this OnnxVariant variant) => variant switch
    {
        OnnxVariant.Fp16 => "onnx/model_fp16.onnx",
        OnnxVariant.Int8 => "onnx/model_quantized.onnx",
        _ => "onnx/model.onnx",
    };
}

/// <summary>One role of a pull: the ONNX export, and for a feature-extraction ELECTRA export, the checkpoint of its head.</summary>
public sealed record RolePull(ModelRole Role, HubReference Model, HubReference? Head = null);

/// <summary>A preset's entry for one role: a repository, or why there is none.</summary>
public sealed record PresetRole(ModelRole Role, string? Repository, string? HeadRepository, string Note);

/// <summary>
/// Named sets of public repositories for <c>models pull --preset</c>. Each repository below was confirmed on the Hub's
/// file listings (see models/README.md for the list and how); a role without a public ONNX export has no repository and
/// says which checkpoint a user would export instead.
/// </summary>
public static class HubPresets
{
    public static IReadOnlyList<string> Names { get; } = ["small", "base", "large"];

    public static IReadOnlyList<PresetRole> Get(string name) => name switch
    {
        "small" =>
        [
            new(ModelRole.MaskedLm, "Xenova/distilroberta-base", null, "DistilRoBERTa fill-mask"),
            new(ModelRole.Nli, "Xenova/nli-deberta-v3-xsmall", null, "DeBERTa-v3 xsmall NLI"),
            new(ModelRole.ReplacedTokenDetection, "Xenova/electra-small-discriminator", "google/electra-small-discriminator@refs/pr/2",
                "ELECTRA small discriminator; head from the safetensors conversion (PR #2)"),
            new(ModelRole.TokenClassification, "Xenova/bert-base-NER", null, "BERT base NER (CoNLL-2003)"),
        ],
        "base" =>
        [
            new(ModelRole.MaskedLm, "Xenova/roberta-base", null, "RoBERTa base fill-mask"),
            new(ModelRole.Nli, "Xenova/nli-deberta-v3-base", null, "DeBERTa-v3 base NLI"),
            new(ModelRole.ReplacedTokenDetection, "Xenova/electra-base-discriminator", "google/electra-base-discriminator@refs/pr/4",
                "ELECTRA base discriminator; head from the safetensors conversion (PR #4)"),
            new(ModelRole.TokenClassification, "Xenova/bert-base-NER", null, "BERT base NER (CoNLL-2003)"),
        ],
        "large" =>
        [
            new(ModelRole.MaskedLm, null, null,
                $"no public fill-mask ONNX export of roberta-large was confirmed: pass {SettingNames.Of(Setting.MlmRepository)} REPO, or export roberta-large with the recipe in models/README.md"),
            new(ModelRole.Nli, "Xenova/nli-deberta-v3-large", null,
                "DeBERTa-v3 large NLI (no public ONNX export of roberta-large-mnli was confirmed)"),
            new(ModelRole.ReplacedTokenDetection, null, "google/electra-large-discriminator@refs/pr/2",
                $"no public ONNX export of electra-large-discriminator was confirmed: pass {SettingNames.Of(Setting.RtdRepository)} REPO (a feature-extraction export; " +
                "its head is read from google/electra-large-discriminator@refs/pr/2), or export it with the recipe in models/README.md"),
            new(ModelRole.TokenClassification, "Xenova/bert-base-NER", null, "BERT base NER (no large NER export was confirmed)"),
        ],
        _ => throw new HubException($"unknown preset '{name}'; the presets are {string.Join(", ", Names)}"),
    };
}
