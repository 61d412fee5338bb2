using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Riverbed.Scoring;

/// <summary>
/// Everything that decides what the scorers compute. Immutable. Its serialized form (through
/// <see cref="ScoringOptionsJson"/>, properties in declaration order) is run.json's "scoring" block and part of the
/// configuration hash; <see cref="ToCanonicalString"/> and <see cref="Hash"/> restate that same form, so an option
/// added here is recorded and hashed without further code (a test in Pipeline checks every option changes the hash).
/// The defaults and their reasons are in Scoring/README.md.
/// </summary>
public sealed record ScoringOptions
{
    private FrozenSet<string>? _stopwordSet;
    private readonly IReadOnlyList<string> _stopwords = DefaultStopwords;

    /// <summary>
    /// English function words, contraction pieces and negations: words whose replacement says little about facts (or,
    /// for negations, always contradicts), so masking them would spend the mask budget on noise.
    /// </summary>
    public static IReadOnlyList<string> DefaultStopwords { get; } =
    [
        "a", "an", "the", "and", "or", "but", "nor", "if", "so", "than", "then", "as", "of", "to", "in", "on", "at", "by",
        "for", "with", "from", "into", "onto", "over", "under", "about", "up", "down", "out", "off", "is", "are", "was",
        "were", "be", "been", "being", "am", "do", "does", "did", "done", "have", "has", "had", "having", "it", "its",
        "this", "that", "these", "those", "there", "here", "i", "you", "he", "she", "we", "they", "me", "him", "her",
        "us", "them", "my", "your", "his", "our", "their", "mine", "yours", "ours", "theirs", "what", "which", "who",
        "whom", "whose", "when", "where", "why", "how", "all", "any", "each", "some", "such", "can", "could", "will",
        "would", "shall", "should", "may", "might", "must", "not", "no", "never", "very", "also", "just", "too",
        "s", "t", "d", "ll", "m", "re", "ve", "'s", "'t", "'d", "'ll", "'m", "'re", "'ve", "n't",
    ];

    /// <summary>The defaults (declared after <see cref="DefaultStopwords"/>, which they use).</summary>
    public static ScoringOptions Default { get; } = new();

    // The properties are declared in the order run.json and the hash have always written them.

    /// <summary>The run's seed; with the example id and turn index it fixes every random choice.</summary>
    [JsonRequired]
    public long Seed { get; init; }

    /// <summary>Fraction of a turn's candidate words masked (at least one when any exist). Default 0.15, BERT's rate.</summary>
    [JsonRequired]
    public double MaskRate { get; init; } = 0.15;

    /// <summary>
    /// w: the NLI windows hold w words either side of a masked word, and masks sharing an MLM input lie at least
    /// 2·w tokens apart. Default 5.
    /// </summary>
    [JsonRequired]
    public int WindowWords { get; init; } = 5;

    /// <summary>A fill matches when the original word is among the MLM's top k whole-word predictions. Default 1.</summary>
    [JsonRequired]
    public int TopK { get; init; } = 1;

    /// <summary>Tokens of preceding turns given as context (segment A) to the MLM and the discriminator. Default 128.</summary>
    [JsonRequired]
    [JsonPropertyName("context_tokens")]
    public int ContextTokenBudget { get; init; } = 128;

    /// <summary>A fill span is flagged when its position score is below this. Default 0 (the policy's fill_compare_min&lt;0).</summary>
    [JsonRequired]
    public double FillFlagBelow { get; init; }

    /// <summary>An entity span is flagged when its score is above this. Default 0.5 (the policy's replaced_entity_max&gt;0.5).</summary>
    [JsonRequired]
    public double EntityFlagAbove { get; init; } = 0.5;

    /// <summary>Contradiction spans are flagged when their pair's score is above this. Default 0.5 (contradiction_max&gt;0.5).</summary>
    [JsonRequired]
    public double ContradictionFlagAbove { get; init; } = 0.5;

    /// <summary>Sentence pairs compared per example. Default 32.</summary>
    [JsonRequired]
    public int MaxContradictionPairs { get; init; } = 32;

    /// <summary>
    /// Score tool turns (tool calls an assistant made and the tools' outputs) like assistant turns. Default false: they
    /// are context (the turns after them see them), not prose whose facts the models can judge. (Absent from run.json
    /// files written before tool turns existed: those did not score them.)
    /// </summary>
    public bool ScoreToolTurns { get; init; }

    /// <summary>
    /// What happens to a turn <see cref="LanguageCheck"/> judges not English: skipped (default; not scored, a note says
    /// why) or flagged (scored, with the same note). (Absent from older run.json files: those skipped.)
    /// </summary>
    [JsonConverter(typeof(OtherLanguageConverter))]
    public OtherLanguageAction OtherLanguage { get; init; } = OtherLanguageAction.Skip;

    /// <summary>
    /// Words never masked and not counted as shared content between sentences (compared case-insensitively). Written
    /// as the set they stand for (trimmed, lower-case, sorted, once each), so equal sets record and hash the same.
    /// </summary>
    [JsonRequired]
    [JsonConverter(typeof(StopwordSetConverter))]
    public IReadOnlyList<string> Stopwords
    {
        get => _stopwords;
        init
        {
            _stopwords = value;
            // A copy made with `with { Stopwords = ... }` must not keep the original's set.
            _stopwordSet = null;
        }
    }

    /// <summary>SHA-256 of <see cref="ToCanonicalString"/>, lower-case hex; written last, after the options it restates.</summary>
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToCanonicalString())));

    internal FrozenSet<string> StopwordSet =>
        _stopwordSet ??= Stopwords.Select(w => w.Trim().ToLowerInvariant()).ToFrozenSet(StringComparer.Ordinal);

    internal bool IsStopword(string word) => StopwordSet.Contains(word.ToLowerInvariant());

    /// <summary>Throws a <see cref="RiverbedException"/> naming every value out of range.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (!(MaskRate > 0 && MaskRate <= 1))
        {
            problems.Add(Invariant($"mask rate must be in (0, 1]; it is {MaskRate}"));
        }
        if (WindowWords < 1)
        {
            problems.Add(Invariant($"window must be at least 1 word; it is {WindowWords}"));
        }
        if (TopK < 1)
        {
            problems.Add(Invariant($"top-k must be at least 1; it is {TopK}"));
        }
        if (ContextTokenBudget < 0)
        {
            problems.Add(Invariant($"context token budget must not be negative; it is {ContextTokenBudget}"));
        }
        if (MaxContradictionPairs < 0)
        {
            problems.Add(Invariant($"max contradiction pairs must not be negative; it is {MaxContradictionPairs}"));
        }
        if (!double.IsFinite(FillFlagBelow) || !double.IsFinite(EntityFlagAbove) || !double.IsFinite(ContradictionFlagAbove))
        {
            problems.Add("flag thresholds must be finite numbers");
        }
        if (!Enum.IsDefined(OtherLanguage))
        {
            problems.Add("other-language must be skip or flag");
        }
        if (Stopwords is null || Stopwords.Any(w => w is null))
        {
            problems.Add("stopwords must be a list of words");
        }
        if (problems.Count > 0)
        {
            throw new RiverbedException($"invalid scoring options: {string.Join("; ", problems)}");
        }
    }

    /// <summary>
    /// One "name=value" line per option of the serialized form, in its order (numbers as JSON writes them, which is
    /// invariant round-trip form; lists joined with commas; the stopwords sorted), without the hash itself.
    /// </summary>
    public string ToCanonicalString()
    {
        var text = new StringBuilder();
        foreach (var option in JsonSerializer.SerializeToElement(this, ScoringOptionsJson.WithoutHash).EnumerateObject())
        {
            var value = option.Value.ValueKind switch
            {
                JsonValueKind.String => option.Value.GetString(),
                JsonValueKind.Array => string.Join(',', option.Value.EnumerateArray().Select(item => item.GetString())),
                _ => option.Value.GetRawText(),
            };
            text.Append(option.Name).Append('=').Append(value).Append('\n');
        }
        return text.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What happens to a turn that is not in the models' language (see <see cref="LanguageCheck"/>).</summary>
public enum OtherLanguageAction
{
    /// <summary>Not scored; the skip notes say which turn and why.</summary>
    Skip,

    /// <summary>Scored anyway; the skip notes still say which turn and why, so a reviewer can discount its scores.</summary>
    Flag,
}

/// <summary>The command-line and run.json names of <see cref="OtherLanguageAction"/>.</summary>
public static class OtherLanguageNames
{
    public static IReadOnlyList<string> All { get; } = ["skip", "flag"];

    public static string Name(OtherLanguageAction action) => action == OtherLanguageAction.Flag ? "flag" : "skip";

    public static OtherLanguageAction Parse(string name) => name switch
    {
        "skip" => OtherLanguageAction.Skip,
        "flag" => OtherLanguageAction.Flag,
        _ => throw new RiverbedException($"other-language must be skip or flag; got '{name}'"),
    };
}

/// <summary>Reads and writes <see cref="OtherLanguageAction"/> by its names ("skip", "flag").</summary>
internal sealed class OtherLanguageConverter : JsonConverter<OtherLanguageAction>
{
    public override OtherLanguageAction Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        try
        {
            return OtherLanguageNames.Parse(reader.GetString() ?? string.Empty);
        }
        catch (RiverbedException error)
        {
            throw new JsonException(error.Message, error);
        }
    }

    public override void Write(Utf8JsonWriter writer, OtherLanguageAction value, JsonSerializerOptions options) =>
        writer.WriteStringValue(OtherLanguageNames.Name(value));
}

/// <summary>
/// Writes a stopword list as the set it stands for (trimmed, lower-case, distinct, ordinal order): two lists that mask
/// the same words are the same configuration. Reads any list of strings.
/// </summary>
internal sealed class StopwordSetConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("stopwords must be a list of words");
        }
        var words = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            words.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException("stopwords must be a list of words"));
        }
        return words;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        foreach (var word in value.Select(w => w.Trim().ToLowerInvariant()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            writer.WriteStringValue(word);
        }
        writer.WriteEndArray();
    }
}

/// <summary>The serialized form of <see cref="ScoringOptions"/> (run.json's "scoring", and the canonical text it hashes).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ScoringOptions))]
internal sealed partial class ScoringOptionsJson : JsonSerializerContext
{
    /// <summary>The options as serialized, less <see cref="ScoringOptions.Hash"/> (which is computed from this form).</summary>
    // Made on first use: a static initializer here could run before the generated part's Default exists.
    public static JsonTypeInfo<ScoringOptions> WithoutHash => s_withoutHash ??= CreateWithoutHash();

    private static JsonTypeInfo<ScoringOptions>? s_withoutHash;

    private static JsonTypeInfo<ScoringOptions> CreateWithoutHash()
    {
        var options = PersistedJson.Options(indented: false);
        options.TypeInfoResolver = Default.WithAddedModifier(info =>
        {
            if (info.Type == typeof(ScoringOptions) && info.Properties.FirstOrDefault(p => p.Name == "hash") is { } hash)
            {
                info.Properties.Remove(hash);
            }
        });
        return (JsonTypeInfo<ScoringOptions>)options.GetTypeInfo(typeof(ScoringOptions));
    }
}
