using System.Globalization;

namespace Riverbed.Scoring;

/// <summary>
/// One labelled example's value of a score, oriented so that a higher <paramref name="Suspicion"/> is more suspect
/// (the score itself for scores that remove above a threshold, its negation for those that remove below), and whether
/// the label says the example is bad (<paramref name="Positive"/>: it should be removed).
/// </summary>
public readonly record struct LabelledValue(double Suspicion, bool Positive);

/// <summary>
/// The counts of one way of removing examples: removed = suspicion strictly above <paramref name="Cut"/>.
/// Precision is null when nothing is removed; F1 is null when precision is.
/// </summary>
public sealed record OperatingCounts(double Cut, long TruePositives, long FalsePositives, long FalseNegatives, long TrueNegatives)
{
    public long Removed => TruePositives + FalsePositives;

    public double? Precision => Removed == 0 ? null : (double)TruePositives / Removed;

    public double Recall => TruePositives + FalseNegatives == 0 ? 0 : (double)TruePositives / (TruePositives + FalseNegatives);

    public double FalsePositiveRate => FalsePositives + TrueNegatives == 0 ? 0 : (double)FalsePositives / (FalsePositives + TrueNegatives);

    public double? F1 => Precision is { } precision ? (precision + Recall == 0 ? 0 : 2 * precision * Recall / (precision + Recall)) : null;
}

/// <summary>
/// Ranking and threshold metrics over labelled values, computed exactly (no binning). Ties are treated as one
/// threshold: examples with equal suspicion are always removed together, as a threshold on the score would.
/// </summary>
public static class RankingMetrics
{
    /// <summary>
    /// ROC-AUC: the probability that a random positive is more suspect than a random negative, ties counting half
    /// (the Mann–Whitney statistic from mid-ranks). Both classes must be present.
    /// </summary>
    public static double RocAuc(IReadOnlyList<LabelledValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var (positives, negatives) = Classes(values);
        var sorted = values.OrderBy(v => v.Suspicion).ToArray();
        double positiveRankSum = 0;
        for (var start = 0; start < sorted.Length;)
        {
            var end = start;
            while (end + 1 < sorted.Length && sorted[end + 1].Suspicion == sorted[start].Suspicion)
            {
                end++;
            }
            // Ranks start+1 … end+1 shared by the tied group: each gets their mean.
            var midRank = (start + end + 2) / 2.0;
            for (var i = start; i <= end; i++)
            {
                if (sorted[i].Positive)
                {
                    positiveRankSum += midRank;
                }
            }
            start = end + 1;
        }
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>
    /// Average precision (the area under the precision–recall curve as a step function): over the distinct
    /// thresholds from the most suspect down, the sum of each step's recall gain times the precision there.
    /// </summary>
    public static double AveragePrecision(IReadOnlyList<LabelledValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var (positives, _) = Classes(values);
        double sum = 0;
        long previousTruePositives = 0;
        foreach (var cut in Cuts(values).Skip(1))
        {
            if (cut.TruePositives > previousTruePositives)
            {
                sum += (cut.TruePositives - previousTruePositives) / (double)positives * cut.Precision!.Value;
            }
            previousTruePositives = cut.TruePositives;
        }
        return sum;
    }

    /// <summary>
    /// Every distinct way a threshold can split the values, from removing nothing to removing everything. Each cut
    /// lies strictly between two neighbouring distinct values (their midpoint when it is representable, else the lower
    /// value), so "suspicion &gt; cut" removes exactly the values at or above the upper one; the last cut is one below
    /// the least suspect value.
    /// </summary>
    public static IReadOnlyList<OperatingCounts> Cuts(IReadOnlyList<LabelledValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.OrderByDescending(v => v.Suspicion).ToArray();
        long positives = sorted.LongCount(v => v.Positive);
        long negatives = sorted.Length - positives;
        var cuts = new List<OperatingCounts>();
        if (sorted.Length == 0)
        {
            return cuts;
        }
        cuts.Add(new OperatingCounts(sorted[0].Suspicion, 0, 0, positives, negatives));
        long truePositives = 0;
        long falsePositives = 0;
        for (var i = 0; i < sorted.Length;)
        {
            var value = sorted[i].Suspicion;
            while (i < sorted.Length && sorted[i].Suspicion == value)
            {
                if (sorted[i].Positive)
                {
                    truePositives++;
                }
                else
                {
                    falsePositives++;
                }
                i++;
            }
            double cut;
            if (i < sorted.Length)
            {
                var lower = sorted[i].Suspicion;
                var middle = lower + ((value - lower) / 2);
                cut = middle > lower && middle < value ? middle : lower;
            }
            else
            {
                cut = value - Math.Max(1, Math.Abs(value));
            }
            cuts.Add(new OperatingCounts(cut, truePositives, falsePositives, positives - truePositives, negatives - falsePositives));
        }
        return cuts;
    }

    /// <summary>The counts of removing the values whose suspicion is strictly above <paramref name="cut"/>.</summary>
    public static OperatingCounts At(IReadOnlyList<LabelledValue> values, double cut)
    {
        ArgumentNullException.ThrowIfNull(values);
        long tp = 0, fp = 0, fn = 0, tn = 0;
        foreach (var value in values)
        {
            var removed = value.Suspicion > cut;
            if (value.Positive)
            {
                if (removed) { tp++; } else { fn++; }
            }
            else if (removed)
            {
                fp++;
            }
            else
            {
                tn++;
            }
        }
        return new OperatingCounts(cut, tp, fp, fn, tn);
    }

    /// <summary>The cut with the highest F1 (ties: the one removing fewest); null when no cut removes a positive.</summary>
    public static OperatingCounts? BestF1(IReadOnlyList<OperatingCounts> cuts)
    {
        ArgumentNullException.ThrowIfNull(cuts);
        OperatingCounts? best = null;
        foreach (var cut in cuts)
        {
            if (cut.F1 is { } f1 && f1 > 0 && (best is null || f1 > best.F1!.Value))
            {
                best = cut;
            }
        }
        return best;
    }

    /// <summary>
    /// For a target precision: the cut with the highest recall among those whose precision reaches it. For a target
    /// recall: the cut with the highest precision among those whose recall reaches it. Ties go to the cut removing
    /// fewest; null when no cut reaches the target.
    /// </summary>
    public static OperatingCounts? ForTarget(IReadOnlyList<OperatingCounts> cuts, CalibrationTarget target)
    {
        ArgumentNullException.ThrowIfNull(cuts);
        ArgumentNullException.ThrowIfNull(target);
        OperatingCounts? best = null;
        foreach (var cut in cuts)
        {
            if (cut.Precision is not { } precision)
            {
                continue;
            }
            if (target.Metric == TargetMetric.Precision)
            {
                if (precision >= target.Value && cut.TruePositives > 0 && (best is null || cut.Recall > best.Recall))
                {
                    best = cut;
                }
            }
            else if (cut.Recall >= target.Value && (best is null || precision > best.Precision!.Value))
            {
                best = cut;
            }
        }
        return best;
    }

    private static (long Positives, long Negatives) Classes(IReadOnlyList<LabelledValue> values)
    {
        long positives = values.LongCount(v => v.Positive);
        long negatives = values.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            throw new RiverbedException(string.Create(CultureInfo.InvariantCulture,
                $"all {values.Count} labelled example(s) are {(positives == 0 ? "negative (keep)" : "positive (remove)")}: ranking metrics need examples of both labels"));
        }
        return (positives, negatives);
    }

    /// <summary>The q-quantile (0..1) of sorted values, interpolating linearly between neighbours.</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            return double.NaN;
        }
        var position = q * (sorted.Count - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + ((position - below) * (sorted[above] - sorted[below]));
    }
}

public enum TargetMetric
{
    Precision,
    Recall,
}

/// <summary>A precision or recall to reach: <c>precision=0.9</c> or <c>recall=0.8</c>.</summary>
public sealed record CalibrationTarget(TargetMetric Metric, double Value)
{
    public static CalibrationTarget Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var metric = equals > 0 ? text[..equals].Trim() : string.Empty;
        var parsedMetric = metric switch
        {
            "precision" => TargetMetric.Precision,
            "recall" => TargetMetric.Recall,
            _ => throw new RiverbedException($"target '{text}' must be precision=P or recall=R (P, R between 0 and 1)"),
        };
        if (!double.TryParse(text[(equals + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0 && value <= 1))
        {
            throw new RiverbedException($"target '{text}': the value must be a number above 0 and at most 1");
        }
        return new CalibrationTarget(parsedMetric, value);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{(Metric == TargetMetric.Precision ? "precision" : "recall")}={Value}");
}
