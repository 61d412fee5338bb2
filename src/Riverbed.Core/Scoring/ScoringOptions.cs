using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Riverbed.Scoring;

/// <summary>
/// Everything that decides what the scorers compute. Immutable; <see cref="ToCanonicalString"/> and
/// <see cref="Hash"/> identify a configuration in run.json and in config hashes (same text, same scores).
/// The defaults and their reasons are in Scoring/README.md.
/// </summary>
public sealed class ScoringOptions
{
    private FrozenSet<string>? _stopwordSet;

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

    /// <summary>The run's seed; with the example id and turn index it fixes every random choice.</summary>
    public long Seed { get; init; }

    /// <summary>Fraction of a turn's candidate words masked (at least one when any exist). Default 0.15, BERT's rate.</summary>
    public double MaskRate { get; init; } = 0.15;

    /// <summary>
    /// w: the NLI windows hold w words either side of a masked word, and masks sharing an MLM input lie at least
    /// 2·w tokens apart. Default 5.
    /// </summary>
    public int WindowWords { get; init; } = 5;

    /// <summary>A fill matches when the original word is among the MLM's top k whole-word predictions. Default 1.</summary>
    public int TopK { get; init; } = 1;

    /// <summary>Words never masked and not counted as shared content between sentences (compared case-insensitively).</summary>
    public IReadOnlyList<string> Stopwords { get; init; } = DefaultStopwords;

    /// <summary>Tokens of preceding turns given as context (segment A) to the MLM and the discriminator. Default 128.</summary>
    public int ContextTokenBudget { get; init; } = 128;

    /// <summary>A fill span is flagged when its position score is below this. Default 0 (the policy's fill_compare_min&lt;0).</summary>
    public double FillFlagBelow { get; init; }

    /// <summary>An entity span is flagged when its score is above this. Default 0.5 (the policy's replaced_entity_max&gt;0.5).</summary>
    public double EntityFlagAbove { get; init; } = 0.5;

    /// <summary>Contradiction spans are flagged when their pair's score is above this. Default 0.5 (contradiction_max&gt;0.5).</summary>
    public double ContradictionFlagAbove { get; init; } = 0.5;

    /// <summary>Sentence pairs compared per example. Default 32.</summary>
    public int MaxContradictionPairs { get; init; } = 32;

    /// <summary>
    /// Score tool turns (tool calls an assistant made and the tools' outputs) like assistant turns. Default false: they
    /// are context (the turns after them see them), not prose whose facts the models can judge.
    /// </summary>
    public bool ScoreToolTurns { get; init; }

    /// <summary>
    /// What happens to a turn <see cref="LanguageCheck"/> judges not English: skipped (default; not scored, a note says
    /// why) or flagged (scored, with the same note).
    /// </summary>
    public OtherLanguageAction OtherLanguage { get; init; } = OtherLanguageAction.Skip;

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

    /// <summary>One line per option in a fixed order, numbers in invariant round-trip form, stopwords sorted.</summary>
    public string ToCanonicalString()
    {
        var text = new StringBuilder();
        void Line(string name, string value) => text.Append(name).Append('=').Append(value).Append('\n');
        Line("seed", Seed.ToString(CultureInfo.InvariantCulture));
        Line("mask_rate", MaskRate.ToString("R", CultureInfo.InvariantCulture));
        Line("window_words", WindowWords.ToString(CultureInfo.InvariantCulture));
        Line("top_k", TopK.ToString(CultureInfo.InvariantCulture));
        Line("context_tokens", ContextTokenBudget.ToString(CultureInfo.InvariantCulture));
        Line("fill_flag_below", FillFlagBelow.ToString("R", CultureInfo.InvariantCulture));
        Line("entity_flag_above", EntityFlagAbove.ToString("R", CultureInfo.InvariantCulture));
        Line("contradiction_flag_above", ContradictionFlagAbove.ToString("R", CultureInfo.InvariantCulture));
        Line("max_contradiction_pairs", MaxContradictionPairs.ToString(CultureInfo.InvariantCulture));
        Line("score_tool_turns", ScoreToolTurns ? "true" : "false");
        Line("other_language", OtherLanguageNames.Name(OtherLanguage));
        Line("stopwords", string.Join(',', StopwordSet.Order(StringComparer.Ordinal)));
        return text.ToString();
    }

    /// <summary>SHA-256 of <see cref="ToCanonicalString"/>, lower-case hex.</summary>
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToCanonicalString())));

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
