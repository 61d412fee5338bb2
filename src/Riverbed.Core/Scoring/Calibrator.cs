using System.Globalization;

namespace Riverbed.Scoring;

/// <summary>A saved span as calibration reads it: its kind, turn, UTF-16 range in that turn, and whether it was flagged.</summary>
public sealed record EvidenceSpan(string Kind, int Turn, int Start, int End, bool Flagged);

/// <summary>
/// One labelled, scored example: its id, whether the label says it is bad (<paramref name="Positive"/>), its saved
/// scores, its spans, the text of each assistant turn by turn index, and the labelled phrases (null when the labels
/// mark none for it).
/// </summary>
public sealed record CalibrationExample(string Id, bool Positive, IReadOnlyDictionary<string, double?> Scores,
    IReadOnlyList<EvidenceSpan> Spans, IReadOnlyDictionary<int, string> AssistantTurns, IReadOnlyList<string>? Phrases);

/// <summary>How <see cref="Calibrator"/> runs: the policy being judged, an optional target, and the bootstrap.</summary>
public sealed record CalibrationSettings(DecisionPolicy Policy, CalibrationTarget? Target, int Bootstrap, long Seed, double Confidence = 0.95)
{
    /// <summary>Points kept per curve: enough to draw, few enough for a small file.</summary>
    public int CurvePoints { get; init; } = 200;
}

/// <summary>What the calibrator computed, before the file's provenance is added.</summary>
public sealed record CalibrationResult(IReadOnlyList<ScoreCalibration> Scores, RuleCalibration Combined, IReadOnlyList<SpanCalibration> Spans,
    long PhrasesNotFound, IReadOnlyList<string> PhrasesNotFoundSample);

/// <summary>
/// Judges scores and a decision policy against labels: per score ROC-AUC, average precision, precision/recall/F1 at
/// the policy's threshold, the F1-optimal threshold and the one for a target, each with a percentile bootstrap
/// interval over examples (seeded: the same inputs give the same file); the combined rule's precision/recall/F1; and,
/// where labels mark phrases, the character overlap of flagged spans with them per kind.
/// </summary>
public static class Calibrator
{
    public static CalibrationResult Evaluate(IReadOnlyList<CalibrationExample> examples, CalibrationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(settings);
        var positives = examples.Count(e => e.Positive);
        if (examples.Count == 0)
        {
            throw new RiverbedException("no scored example has a label: nothing to evaluate");
        }
        if (positives == 0 || positives == examples.Count)
        {
            throw new RiverbedException(string.Create(CultureInfo.InvariantCulture,
                $"all {examples.Count} labelled example(s) are {(positives == 0 ? "negative (keep)" : "positive (remove)")}: calibration needs examples of both labels"));
        }
        var resamples = Resamples(examples.Count, settings);
        var scores = ScoreNames.All.Select(name => Score(name, examples, settings, resamples)).ToList();
        var combined = Combined(examples, settings, resamples);
        var (spans, notFound, notFoundSample) = Spans(examples);
        return new CalibrationResult(scores, combined, spans, notFound, notFoundSample);
    }

    /// <summary>The bootstrap's resamples: example indices drawn with replacement, the same for every score.</summary>
    private static int[][] Resamples(int count, CalibrationSettings settings)
    {
        var random = new DeterministicRandom(unchecked((ulong)settings.Seed * 0x9E3779B97F4A7C15UL + 0x5EED));
        var resamples = new int[settings.Bootstrap][];
        for (var b = 0; b < resamples.Length; b++)
        {
            var indices = new int[count];
            for (var i = 0; i < count; i++)
            {
                indices[i] = random.NextInt(count);
            }
            resamples[b] = indices;
        }
        return resamples;
    }

    private static ScoreCalibration Score(string name, IReadOnlyList<CalibrationExample> examples, CalibrationSettings settings, int[][] resamples)
    {
        var threshold = settings.Policy.Thresholds.FirstOrDefault(t => t.Score == name);
        var direction = threshold?.Direction ?? (ScoreNames.LowerIsWorse(name) ? ThresholdDirection.Below : ThresholdDirection.Above);
        var sign = direction == ThresholdDirection.Above ? 1.0 : -1.0;
        // Per example index: its oriented value, or null without the score.
        var oriented = examples.Select(e => e.Scores.TryGetValue(name, out var v) && v is { } value && !double.IsNaN(value) ? sign * value : (double?)null).ToArray();
        var values = Values(examples, oriented, Enumerable.Range(0, examples.Count));
        long positive = values.LongCount(v => v.Positive);
        var result = new ScoreCalibration
        {
            Score = name,
            Direction = direction == ThresholdDirection.Above ? "above" : "below",
            Examples = values.Count,
            Positive = positive,
            Negative = values.Count - positive,
            WithoutScore = examples.Count - values.Count,
        };
        if (positive == 0 || positive == values.Count)
        {
            return result with
            {
                Note = values.Count == 0 ? "no labelled example has this score" : "the examples with this score all have the same label: no ranking metric",
            };
        }

        string Text(double cut) => new ScoreThreshold(name, direction, (sign * cut) + 0.0).Reason;
        var cuts = RankingMetrics.Cuts(values);
        var policyCut = threshold is null ? (double?)null : sign * threshold.Value;
        var best = RankingMetrics.BestF1(cuts);
        var targeted = settings.Target is { } target ? RankingMetrics.ForTarget(cuts, target) : null;

        // Every metric on each resample; a resample whose examples are all of one label gives no ranking metric.
        var auc = new List<double>();
        var ap = new List<double>();
        var atPolicy = new Metrics();
        var atBest = new Metrics();
        var atTarget = new Metrics();
        foreach (var resample in resamples)
        {
            var drawn = Values(examples, oriented, resample);
            var drawnPositive = drawn.Count(v => v.Positive);
            if (drawnPositive == 0 || drawnPositive == drawn.Count)
            {
                continue;
            }
            auc.Add(RankingMetrics.RocAuc(drawn));
            ap.Add(RankingMetrics.AveragePrecision(drawn));
            if (policyCut is { } p)
            {
                atPolicy.Add(RankingMetrics.At(drawn, p));
            }
            if (best is not null)
            {
                atBest.Add(RankingMetrics.At(drawn, best.Cut));
            }
            if (targeted is not null)
            {
                atTarget.Add(RankingMetrics.At(drawn, targeted.Cut));
            }
        }
        var recommended = targeted ?? best;
        return result with
        {
            RocAuc = new Estimate(RankingMetrics.RocAuc(values), Low(auc, settings), High(auc, settings)),
            PrAuc = new Estimate(RankingMetrics.AveragePrecision(values), Low(ap, settings), High(ap, settings)),
            AtThreshold = policyCut is { } at ? atPolicy.Result(threshold!.Reason, RankingMetrics.At(values, at), settings) : null,
            F1Optimal = best is null ? null : atBest.Result(Text(best.Cut), best, settings),
            ForTarget = targeted is null ? null : atTarget.Result(Text(targeted.Cut), targeted, settings),
            Recommended = recommended is null ? null : Text(recommended.Cut),
            Roc = Thin(cuts.Select(c => new CurvePoint(Text(c.Cut), c.FalsePositiveRate, c.Recall)).ToList(), settings.CurvePoints),
            Pr = Thin(cuts.Where(c => c.Precision is not null).Select(c => new CurvePoint(Text(c.Cut), c.Recall, c.Precision!.Value)).ToList(), settings.CurvePoints),
        };
    }

    private static RuleCalibration Combined(IReadOnlyList<CalibrationExample> examples, CalibrationSettings settings, int[][] resamples)
    {
        // The rule is a yes/no prediction: 1 when it removes the example. Its curve has one inner point.
        var removed = examples.Select(e => settings.Policy.Decide(e.Scores).Keep ? 0.0 : 1.0).ToArray();
        var values = Values(examples, removed.Select(r => (double?)r).ToArray(), Enumerable.Range(0, examples.Count));
        var auc = new List<double>();
        var ap = new List<double>();
        var at = new Metrics();
        foreach (var resample in resamples)
        {
            var drawn = Values(examples, removed.Select(r => (double?)r).ToArray(), resample);
            var drawnPositive = drawn.Count(v => v.Positive);
            if (drawnPositive == 0 || drawnPositive == drawn.Count)
            {
                continue;
            }
            auc.Add(RankingMetrics.RocAuc(drawn));
            ap.Add(RankingMetrics.AveragePrecision(drawn));
            at.Add(RankingMetrics.At(drawn, 0.5));
        }
        var policy = settings.Policy.ToString();
        return new RuleCalibration(policy, values.Count, at.Result(policy, RankingMetrics.At(values, 0.5), settings),
            new Estimate(RankingMetrics.RocAuc(values), Low(auc, settings), High(auc, settings)),
            new Estimate(RankingMetrics.AveragePrecision(values), Low(ap, settings), High(ap, settings)));
    }

    private static List<LabelledValue> Values(IReadOnlyList<CalibrationExample> examples, double?[] oriented, IEnumerable<int> indices)
    {
        var values = new List<LabelledValue>();
        foreach (var i in indices)
        {
            if (oriented[i] is { } value)
            {
                values.Add(new LabelledValue(value, examples[i].Positive));
            }
        }
        return values;
    }

    /// <summary>
    /// Span evidence against labelled phrases: each phrase marks the characters of its first occurrence in an
    /// assistant turn (turns in order); flagged spans of a kind mark theirs; precision is the share of flagged
    /// characters that are labelled, recall the share of labelled characters that are flagged, summed over examples.
    /// </summary>
    private static (IReadOnlyList<SpanCalibration> Spans, long NotFound, IReadOnlyList<string> NotFoundSample) Spans(IReadOnlyList<CalibrationExample> examples)
    {
        var kinds = examples.SelectMany(e => e.Spans).Select(s => s.Kind).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var flaggedSpans = kinds.ToDictionary(k => k, _ => 0L, StringComparer.Ordinal);
        var flaggedCharacters = kinds.ToDictionary(k => k, _ => 0L, StringComparer.Ordinal);
        var overlap = kinds.ToDictionary(k => k, _ => 0L, StringComparer.Ordinal);
        long labelledCharacters = 0;
        long notFound = 0;
        var notFoundSample = new List<string>();
        var any = false;
        foreach (var example in examples)
        {
            if (example.Phrases is not { } phrases)
            {
                continue;
            }
            any = true;
            var labelled = example.AssistantTurns.ToDictionary(t => t.Key, t => new bool[t.Value.Length]);
            foreach (var phrase in phrases.Where(p => p.Length > 0))
            {
                var found = false;
                foreach (var (turn, text) in example.AssistantTurns.OrderBy(t => t.Key))
                {
                    var at = text.IndexOf(phrase, StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        Array.Fill(labelled[turn], true, at, phrase.Length);
                        found = true;
                        break;
                    }
                }
                if (!found)
                {
                    notFound++;
                    if (notFoundSample.Count < CalibrationReport.ListedIds)
                    {
                        notFoundSample.Add($"{example.Id}: {(phrase.Length > 80 ? phrase[..80] + "…" : phrase)}");
                    }
                }
            }
            labelledCharacters += labelled.Values.Sum(marks => marks.LongCount(m => m));
            foreach (var kind in kinds)
            {
                var flagged = example.AssistantTurns.ToDictionary(t => t.Key, t => new bool[t.Value.Length]);
                foreach (var span in example.Spans.Where(s => s.Flagged && s.Kind == kind && flagged.ContainsKey(s.Turn)))
                {
                    flaggedSpans[kind]++;
                    var marks = flagged[span.Turn];
                    var start = Math.Clamp(span.Start, 0, marks.Length);
                    var end = Math.Clamp(span.End, start, marks.Length);
                    Array.Fill(marks, true, start, end - start);
                }
                foreach (var (turn, marks) in flagged)
                {
                    for (var i = 0; i < marks.Length; i++)
                    {
                        if (marks[i])
                        {
                            flaggedCharacters[kind]++;
                            if (labelled[turn][i])
                            {
                                overlap[kind]++;
                            }
                        }
                    }
                }
            }
        }
        if (!any)
        {
            return ([], 0, []);
        }
        var spans = kinds.Select(kind => new SpanCalibration(kind, flaggedSpans[kind], flaggedCharacters[kind], labelledCharacters, overlap[kind],
            flaggedCharacters[kind] == 0 ? null : (double)overlap[kind] / flaggedCharacters[kind],
            labelledCharacters == 0 ? null : (double)overlap[kind] / labelledCharacters)).ToList();
        return (spans, notFound, notFoundSample);
    }

    private static List<CurvePoint> Thin(List<CurvePoint> points, int limit)
    {
        if (points.Count <= limit)
        {
            return points;
        }
        // Evenly spaced by index, the first and last always kept, so the curve's ends stay exact.
        return Enumerable.Range(0, limit).Select(i => points[(int)Math.Round(i * (points.Count - 1) / (double)(limit - 1))]).ToList();
    }

    private static double? Low(List<double> values, CalibrationSettings settings) => Bound(values, (1 - settings.Confidence) / 2);

    private static double? High(List<double> values, CalibrationSettings settings) => Bound(values, (1 + settings.Confidence) / 2);

    private static double? Bound(List<double> values, double q)
    {
        if (values.Count == 0)
        {
            return null;
        }
        values.Sort();
        return RankingMetrics.Quantile(values, q);
    }

    /// <summary>Precision, recall and F1 of one threshold over the resamples.</summary>
    private sealed class Metrics
    {
        private readonly List<double> _precision = [];
        private readonly List<double> _recall = [];
        private readonly List<double> _f1 = [];

        public void Add(OperatingCounts counts)
        {
            if (counts.Precision is { } precision)
            {
                _precision.Add(precision);
            }
            _recall.Add(counts.Recall);
            if (counts.F1 is { } f1)
            {
                _f1.Add(f1);
            }
        }

        public ThresholdResult Result(string threshold, OperatingCounts counts, CalibrationSettings settings) => new(
            threshold, counts.Removed, counts.TruePositives, counts.FalsePositives,
            counts.Precision is { } p ? new Estimate(p, Low(_precision, settings), High(_precision, settings)) : null,
            new Estimate(counts.Recall, Low(_recall, settings), High(_recall, settings)),
            counts.F1 is { } f ? new Estimate(f, Low(_f1, settings), High(_f1, settings)) : null);
    }
}
