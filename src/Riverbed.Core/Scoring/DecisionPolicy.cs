using System.Globalization;

namespace Riverbed.Scoring;

/// <summary>The example-level scores a decision can use. These are also the score columns of scored shards.</summary>
public static class ScoreNames
{
    /// <summary>Lowest fill-and-compare position score over all assistant turns (1 = every fill agreed; below 0 = a fill contradicted).</summary>
    public const string FillCompareMin = "fill_compare_min";

    /// <summary>Mean fill-and-compare position score over all masked positions.</summary>
    public const string FillCompareMean = "fill_compare_mean";

    /// <summary>Highest entity score (mean P(replaced) over an entity's tokens) over all assistant turns.</summary>
    public const string ReplacedEntityMax = "replaced_entity_max";

    /// <summary>Highest contradiction probability over the compared sentence pairs.</summary>
    public const string ContradictionMax = "contradiction_max";

    public static IReadOnlyList<string> All { get; } = [FillCompareMin, FillCompareMean, ReplacedEntityMax, ContradictionMax];

    /// <summary>Whether a low value of the score is the bad end (fill-and-compare) or a high one (the others).</summary>
    public static bool LowerIsWorse(string name) => name is FillCompareMin or FillCompareMean;
}

public enum ThresholdDirection
{
    /// <summary>Triggers when the score is strictly below the threshold.</summary>
    Below,

    /// <summary>Triggers when the score is strictly above the threshold.</summary>
    Above,
}

/// <summary>One rule: drop when the named score crosses the value.</summary>
public sealed record ScoreThreshold(string Score, ThresholdDirection Direction, double Value)
{
    /// <summary>The reason recorded for a dropped example, e.g. "fill_compare_min&lt;0".</summary>
    public string Reason => string.Create(CultureInfo.InvariantCulture, $"{Score}{(Direction == ThresholdDirection.Below ? "<" : ">")}{Value}");

    public bool IsTriggeredBy(double score) => Direction == ThresholdDirection.Below ? score < Value : score > Value;

    /// <summary>
    /// Parses "name=value" (the score's natural direction: below for fill-and-compare, above for the others),
    /// "name&lt;value" or "name&gt;value".
    /// </summary>
    public static ScoreThreshold Parse(string text)
    {
        var operatorIndex = text.IndexOfAny(['=', '<', '>']);
        if (operatorIndex <= 0 || operatorIndex == text.Length - 1)
        {
            throw new RiverbedException($"threshold '{text}' is not of the form name=value, name<value or name>value");
        }
        var name = text[..operatorIndex].Trim();
        if (!ScoreNames.All.Contains(name))
        {
            throw new RiverbedException($"threshold '{text}': unknown score '{name}'; known scores: {string.Join(", ", ScoreNames.All)}");
        }
        if (!double.TryParse(text[(operatorIndex + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw new RiverbedException($"threshold '{text}': '{text[(operatorIndex + 1)..]}' is not a number");
        }
        var direction = text[operatorIndex] switch
        {
            '<' => ThresholdDirection.Below,
            '>' => ThresholdDirection.Above,
            _ => ScoreNames.LowerIsWorse(name) ? ThresholdDirection.Below : ThresholdDirection.Above,
        };
        return new ScoreThreshold(name, direction, value);
    }
}

public enum ThresholdCombination
{
    /// <summary>Drop when any threshold triggers.</summary>
    Any,

    /// <summary>Drop only when every threshold triggers (a threshold whose score is missing does not).</summary>
    All,
}

/// <summary>
/// One score's threshold as given by a user: a threshold, or <c>off</c> (<see cref="Threshold"/> null), which removes
/// that score's threshold from the policy.
/// </summary>
public sealed record ThresholdSetting(string Score, ScoreThreshold? Threshold)
{
    /// <summary>The word that switches a score's threshold off: <c>name=off</c>.</summary>
    public const string Off = "off";

    /// <summary>Parses <c>name=off</c> or anything <see cref="ScoreThreshold.Parse"/> accepts.</summary>
    public static ThresholdSetting Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals > 0 && string.Equals(text[(equals + 1)..].Trim(), Off, StringComparison.OrdinalIgnoreCase))
        {
            var name = text[..equals].Trim();
            if (!ScoreNames.All.Contains(name))
            {
                throw new RiverbedException($"threshold '{text}': unknown score '{name}'; known scores: {string.Join(", ", ScoreNames.All)}");
            }
            return new ThresholdSetting(name, null);
        }
        var threshold = ScoreThreshold.Parse(text);
        return new ThresholdSetting(threshold.Score, threshold);
    }

    /// <summary>Parses every setting; a score given twice is refused (which one was meant cannot be guessed).</summary>
    public static IReadOnlyList<ThresholdSetting> ParseAll(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var given = texts.ToList();
        var settings = given.Select(Parse).ToList();
        for (var i = 0; i < settings.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (settings[j].Score == settings[i].Score)
                {
                    throw new RiverbedException(
                        $"the threshold of {settings[i].Score} is given twice ('{given[j]}' and '{given[i]}'); give one per score");
                }
            }
        }
        return settings;
    }

    /// <summary>The text form <see cref="Parse"/> reads back.</summary>
    public override string ToString() => Threshold is { } threshold ? threshold.Reason : $"{Score}={Off}";
}

/// <summary>
/// How thresholds combine: <c>any</c> or <c>all</c>, optionally over an explicit subset of scores
/// (<c>any:fill_compare_min,contradiction_max</c>); thresholds of scores outside the subset are switched off.
/// </summary>
public sealed record CombineRule(ThresholdCombination Combination, IReadOnlyList<string>? Scores)
{
    public static CombineRule Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var word = (colon < 0 ? text : text[..colon]).Trim();
        var combination = word switch
        {
            "any" => ThresholdCombination.Any,
            "all" => ThresholdCombination.All,
            _ => throw new RiverbedException($"combine rule '{text}' must be any, all, any:score,score… or all:score,score…"),
        };
        if (colon < 0)
        {
            return new CombineRule(combination, null);
        }
        var scores = text[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (scores.Length == 0)
        {
            throw new RiverbedException($"combine rule '{text}' names no score after ':'");
        }
        foreach (var score in scores)
        {
            if (!ScoreNames.All.Contains(score))
            {
                throw new RiverbedException($"combine rule '{text}': unknown score '{score}'; known scores: {string.Join(", ", ScoreNames.All)}");
            }
        }
        if (scores.Distinct(StringComparer.Ordinal).Count() != scores.Length)
        {
            throw new RiverbedException($"combine rule '{text}' names a score twice");
        }
        return new CombineRule(combination, scores);
    }

    public override string ToString() =>
        (Combination == ThresholdCombination.All ? "all" : "any") + (Scores is { } scores ? ":" + string.Join(',', scores) : string.Empty);
}

/// <summary>Keep or drop, with the triggered thresholds as reasons (in policy order).</summary>
public sealed record Decision(bool Keep, IReadOnlyList<string> Reasons)
{
    public static Decision Kept { get; } = new(true, []);
}

/// <summary>
/// Decides from saved scores alone, so `riverbed filter` can re-decide a scored run without any model. A missing
/// score (its scorer was skipped, or the example had nothing to score) never triggers a threshold.
/// </summary>
public sealed class DecisionPolicy
{
    private DecisionPolicy(IReadOnlyList<ScoreThreshold> thresholds, ThresholdCombination combination)
    {
        Thresholds = thresholds;
        Combination = combination;
    }

    public IReadOnlyList<ScoreThreshold> Thresholds { get; }

    public ThresholdCombination Combination { get; }

    /// <summary>
    /// The defaults, and why:
    /// fill_compare_min &lt; 0 — a negative position score means the NLI model found the fill and the original
    /// contradictory, on average over both directions, so the original word is suspect;
    /// replaced_entity_max &gt; 0.5 — the discriminator thinks an entity's tokens were more likely replaced than not;
    /// contradiction_max &gt; 0.5 — the NLI model thinks two sentences of the answer more likely contradict than not.
    /// </summary>
    public static DecisionPolicy Default { get; } = Create(
    [
        new ScoreThreshold(ScoreNames.FillCompareMin, ThresholdDirection.Below, 0.0),
        new ScoreThreshold(ScoreNames.ReplacedEntityMax, ThresholdDirection.Above, 0.5),
        new ScoreThreshold(ScoreNames.ContradictionMax, ThresholdDirection.Above, 0.5),
    ]);

    public static DecisionPolicy Create(IEnumerable<ScoreThreshold> thresholds, ThresholdCombination combination = ThresholdCombination.Any)
    {
        var list = thresholds.ToList();
        var duplicate = list.GroupBy(t => t.Score).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new RiverbedException($"score '{duplicate.Key}' has more than one threshold");
        }
        return new DecisionPolicy(list, combination);
    }

    /// <summary>The same policy with some thresholds replaced or added (by score name).</summary>
    public DecisionPolicy With(IEnumerable<ScoreThreshold> overrides, ThresholdCombination? combination = null)
    {
        var merged = Thresholds.ToList();
        foreach (var threshold in overrides)
        {
            var index = merged.FindIndex(t => t.Score == threshold.Score);
            if (index >= 0)
            {
                merged[index] = threshold;
            }
            else
            {
                merged.Add(threshold);
            }
        }
        return Create(merged, combination ?? Combination);
    }

    /// <summary>
    /// The same policy with user settings applied: each threshold replaces (or adds, or with <c>off</c> removes) its
    /// score's, then a combine rule with a subset keeps only the thresholds of the scores it names, in its order; a
    /// named score left without a threshold is refused, since it could never trigger.
    /// </summary>
    public DecisionPolicy With(IEnumerable<ThresholdSetting> settings, CombineRule? rule)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var merged = Thresholds.ToList();
        foreach (var setting in settings)
        {
            var index = merged.FindIndex(t => t.Score == setting.Score);
            if (setting.Threshold is null)
            {
                if (index >= 0)
                {
                    merged.RemoveAt(index);
                }
            }
            else if (index >= 0)
            {
                merged[index] = setting.Threshold;
            }
            else
            {
                merged.Add(setting.Threshold);
            }
        }
        if (rule?.Scores is { } subset)
        {
            var chosen = new List<ScoreThreshold>();
            foreach (var score in subset)
            {
                chosen.Add(merged.Find(t => t.Score == score)
                    ?? throw new RiverbedException($"combine rule '{rule}' names {score}, which has no threshold; give one (e.g. {score}={(ScoreNames.LowerIsWorse(score) ? "0" : "0.5")})"));
            }
            merged = chosen;
        }
        return Create(merged, rule?.Combination ?? Combination);
    }

    /// <summary>
    /// The settings that turn <paramref name="from"/> into this policy, as <c>threshold</c> texts (one per score that
    /// changed, <c>name=off</c> for one removed) and a combine rule (null when the combination is the same): what a
    /// command line needs to reproduce this policy starting from <paramref name="from"/>.
    /// </summary>
    public (IReadOnlyList<string> Thresholds, string? Combine) SettingsFrom(DecisionPolicy from)
    {
        ArgumentNullException.ThrowIfNull(from);
        var thresholds = new List<string>();
        foreach (var score in ScoreNames.All)
        {
            var before = from.Thresholds.FirstOrDefault(t => t.Score == score);
            var after = Thresholds.FirstOrDefault(t => t.Score == score);
            if (before == after)
            {
                continue;
            }
            thresholds.Add(after is null ? $"{score}={ThresholdSetting.Off}" : after.Reason);
        }
        return (thresholds, Combination == from.Combination ? null : Combination == ThresholdCombination.All ? "all" : "any");
    }

    public Decision Decide(IReadOnlyDictionary<string, double?> scores)
    {
        if (Thresholds.Count == 0)
        {
            return Decision.Kept;
        }
        var reasons = new List<string>();
        foreach (var threshold in Thresholds)
        {
            if (scores.TryGetValue(threshold.Score, out var value) && value is { } score && !double.IsNaN(score) && threshold.IsTriggeredBy(score))
            {
                reasons.Add(threshold.Reason);
            }
        }
        var drop = Combination == ThresholdCombination.Any ? reasons.Count > 0 : reasons.Count == Thresholds.Count;
        return drop ? new Decision(false, reasons) : Decision.Kept;
    }

    /// <summary>A stable text form for run.json and config hashes.</summary>
    public override string ToString() =>
        $"{Combination.ToString().ToLowerInvariant()}({string.Join(", ", Thresholds.Select(t => t.Reason))})";
}
