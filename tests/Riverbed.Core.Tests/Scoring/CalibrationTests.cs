using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

/// <summary>Calibration metrics against hand-worked cases and independent brute-force computations.</summary>
public sealed class CalibrationTests
{
    private static LabelledValue V(double suspicion, bool positive) => new(suspicion, positive);

    [Fact]
    public void Roc_auc_and_average_precision_match_a_hand_worked_case()
    {
        LabelledValue[] values = [V(0.9, true), V(0.8, false), V(0.7, true), V(0.6, false)];
        // Positive-over-negative pairs: 0.9 beats both negatives, 0.7 beats 0.6 only: 3 of 4.
        Assert.Equal(0.75, RankingMetrics.RocAuc(values), 12);
        // Recall 1/2 at precision 1, then recall 2/2 at precision 2/3.
        Assert.Equal((0.5 * 1) + (0.5 * 2 / 3.0), RankingMetrics.AveragePrecision(values), 12);
    }

    [Fact]
    public void Tied_values_count_half_in_roc_auc_and_are_removed_together()
    {
        LabelledValue[] values = [V(0.5, true), V(0.5, false), V(0.9, true), V(0.1, false)];
        // 0.9 beats both negatives (2), the tied positive beats 0.1 (1) and ties 0.5 (½): 3.5 of 4.
        Assert.Equal(0.875, RankingMetrics.RocAuc(values), 12);
        // The tie is one step: recall 1/2 at precision 1, then recall 1 at precision 2/3 (never 1/1 then 1/2).
        Assert.Equal(0.5 + (0.5 * 2 / 3.0), RankingMetrics.AveragePrecision(values), 12);
        var cuts = RankingMetrics.Cuts(values);
        Assert.Equal([0.9, 0.7, 0.3, -0.9], cuts.Select(c => Math.Round(c.Cut, 12)));
        Assert.Equal([0L, 1, 3, 4], cuts.Select(c => c.Removed));
    }

    [Fact]
    public void The_best_f1_and_target_thresholds_are_the_hand_worked_ones()
    {
        LabelledValue[] values = [V(0.5, true), V(0.5, false), V(0.9, true), V(0.1, false)];
        var cuts = RankingMetrics.Cuts(values);
        // F1 at the cuts: 2/3 (remove 0.9), 4/5 (remove 0.9 and both 0.5), 2/3 (remove all).
        var best = RankingMetrics.BestF1(cuts)!;
        Assert.Equal(0.3, best.Cut, 12);
        Assert.Equal(0.8, best.F1!.Value, 12);
        Assert.Equal(0.7, RankingMetrics.ForTarget(cuts, CalibrationTarget.Parse("precision=0.9"))!.Cut, 12);
        Assert.Equal(0.3, RankingMetrics.ForTarget(cuts, CalibrationTarget.Parse("recall=1"))!.Cut, 12);
        Assert.Null(RankingMetrics.ForTarget([.. cuts.Take(1)], CalibrationTarget.Parse("recall=0.5")));
    }

    [Fact]
    public void Roc_auc_and_average_precision_equal_brute_force_computations_on_tied_random_data()
    {
        var random = new Random(11);
        for (var trial = 0; trial < 20; trial++)
        {
            var values = Enumerable.Range(0, 150).Select(_ => V(Math.Round(random.NextDouble() * 20) / 20, random.NextDouble() < 0.3)).ToArray();
            if (values.All(v => v.Positive) || values.All(v => !v.Positive))
            {
                continue;
            }
            // AUC: every positive/negative pair, a tie counting half.
            double wins = 0;
            var positives = values.Where(v => v.Positive).ToArray();
            var negatives = values.Where(v => !v.Positive).ToArray();
            foreach (var p in positives)
            {
                foreach (var n in negatives)
                {
                    wins += p.Suspicion > n.Suspicion ? 1 : p.Suspicion == n.Suspicion ? 0.5 : 0;
                }
            }
            Assert.Equal(wins / (positives.Length * negatives.Length), RankingMetrics.RocAuc(values), 9);
            // AP: at each distinct value t (descending), precision and recall of "remove everything ≥ t".
            double ap = 0, previousRecall = 0;
            foreach (var t in values.Select(v => v.Suspicion).Distinct().OrderDescending())
            {
                var removed = values.Where(v => v.Suspicion >= t).ToArray();
                var recall = removed.Count(v => v.Positive) / (double)positives.Length;
                ap += (recall - previousRecall) * (removed.Count(v => v.Positive) / (double)removed.Length);
                previousRecall = recall;
            }
            Assert.Equal(ap, RankingMetrics.AveragePrecision(values), 9);
        }
    }

    [Fact]
    public void Examples_all_of_one_label_are_refused_with_a_clear_message()
    {
        var error = Assert.Throws<RiverbedException>(() => RankingMetrics.RocAuc([V(0.2, true), V(0.4, true)]));
        Assert.Contains("all 2 labelled example(s) are positive (remove)", error.Message, StringComparison.Ordinal);
        var examples = new[] { Example("a", false, fill: 0.5), Example("b", false, fill: -0.5) };
        error = Assert.Throws<RiverbedException>(() => Calibrator.Evaluate(examples, new CalibrationSettings(DecisionPolicy.Default, null, 10, 1)));
        Assert.Contains("all 2 labelled example(s) are negative (keep): calibration needs examples of both labels", error.Message, StringComparison.Ordinal);
    }

    private static CalibrationExample Example(string id, bool positive, double? fill = null, double? contradiction = null,
        IReadOnlyList<EvidenceSpan>? spans = null, string text = "", IReadOnlyList<string>? phrases = null) =>
        new(id, positive, new Dictionary<string, double?>
        {
            [ScoreNames.FillCompareMin] = fill,
            [ScoreNames.FillCompareMean] = fill,
            [ScoreNames.ReplacedEntityMax] = null,
            [ScoreNames.ContradictionMax] = contradiction,
        }, spans ?? [], new Dictionary<int, string> { [1] = text }, phrases);

    [Fact]
    public void A_recommended_threshold_removes_exactly_what_the_calibration_says_when_the_policy_applies_it()
    {
        var random = new Random(5);
        var examples = Enumerable.Range(0, 300).Select(i =>
        {
            var positive = random.NextDouble() < 0.25;
            var fill = Math.Round((positive ? -0.3 : 0.2) + (random.NextDouble() - 0.5), 2);
            return Example($"e{i}", positive, fill: fill, contradiction: i % 7 == 0 ? null : Math.Round(random.NextDouble(), 1));
        }).ToList();
        var result = Calibrator.Evaluate(examples, new CalibrationSettings(DecisionPolicy.Default, CalibrationTarget.Parse("precision=0.8"), 200, 3));
        var fill = result.Scores.Single(s => s.Score == ScoreNames.FillCompareMin);
        Assert.Equal("below", fill.Direction);
        Assert.StartsWith("fill_compare_min<", fill.Recommended, StringComparison.Ordinal);
        Assert.Equal(fill.ForTarget!.Threshold, fill.Recommended);
        var onlyFill = DecisionPolicy.Create([ScoreThreshold.Parse(fill.Recommended!)]);
        Assert.Equal(fill.ForTarget.Removed, examples.Count(e => !onlyFill.Decide(e.Scores).Keep));
        Assert.True(fill.ForTarget.Precision!.Value >= 0.8);
        var best = DecisionPolicy.Create([ScoreThreshold.Parse(fill.F1Optimal!.Threshold)]);
        Assert.Equal(fill.F1Optimal.Removed, examples.Count(e => !best.Decide(e.Scores).Keep));
        // The interval holds the estimate, and the same seed gives the same file.
        Assert.InRange(fill.RocAuc!.Value, fill.RocAuc.Low!.Value, fill.RocAuc.High!.Value);
        var again = Calibrator.Evaluate(examples, new CalibrationSettings(DecisionPolicy.Default, CalibrationTarget.Parse("precision=0.8"), 200, 3));
        Assert.Equal(fill.RocAuc, again.Scores.Single(s => s.Score == ScoreNames.FillCompareMin).RocAuc);
        // Examples without a contradiction score are counted, not guessed.
        var contradiction = result.Scores.Single(s => s.Score == ScoreNames.ContradictionMax);
        Assert.Equal(examples.Count(e => e.Scores[ScoreNames.ContradictionMax] is null), contradiction.WithoutScore);
        Assert.Equal(examples.Count(e => !DecisionPolicy.Default.Decide(e.Scores).Keep), result.Combined.Result.Removed);
    }

    [Fact]
    public void Flagged_spans_are_scored_by_character_overlap_with_the_labelled_phrases_per_kind()
    {
        const string text = "The tower is in Berlin today.";
        EvidenceSpan[] spans =
        [
            new("entity", 1, 16, 22, true),    // "Berlin", inside the phrase "in Berlin" (13..22)
            new("fill", 1, 4, 9, true),        // "tower", outside it
            new("fill", 1, 23, 28, false),     // not flagged: not counted
        ];
        var examples = new[]
        {
            Example("bad", true, fill: -0.5, spans: spans, text: text, phrases: ["in Berlin", "Paris"]),
            Example("good", false, fill: 0.5, text: "Fine.", phrases: []),
        };
        var result = Calibrator.Evaluate(examples, new CalibrationSettings(DecisionPolicy.Default, null, 0, 1));
        var entity = result.Spans.Single(s => s.Kind == "entity");
        Assert.Equal((6L, 9L, 6L), (entity.FlaggedCharacters, entity.LabelledCharacters, entity.OverlapCharacters));
        Assert.Equal(1.0, entity.Precision);
        Assert.Equal(6 / 9.0, entity.Recall!.Value, 12);
        var fill = result.Spans.Single(s => s.Kind == "fill");
        Assert.Equal((1L, 5L, 0L), (fill.FlaggedSpans, fill.FlaggedCharacters, fill.OverlapCharacters));
        Assert.Equal(1, result.PhrasesNotFound);
        Assert.Equal(["bad: Paris"], result.PhrasesNotFoundSample);
    }

    [Theory]
    [InlineData("precision=0.9", TargetMetric.Precision, 0.9)]
    [InlineData("recall = 0.5", TargetMetric.Recall, 0.5)]
    public void Targets_parse(string text, TargetMetric metric, double value)
    {
        Assert.Equal(new CalibrationTarget(metric, value), CalibrationTarget.Parse(text));
    }

    [Theory]
    [InlineData("f1=0.5")]
    [InlineData("precision=1.5")]
    [InlineData("recall=0")]
    public void Bad_targets_are_refused(string text)
    {
        Assert.Throws<RiverbedException>(() => CalibrationTarget.Parse(text));
    }

    [Fact]
    public void Calibration_json_reads_back_as_it_was_written()
    {
        var examples = new[] { Example("a", true, fill: -0.5), Example("b", false, fill: 0.5), Example("c", true, fill: 0.1) };
        var result = Calibrator.Evaluate(examples, new CalibrationSettings(DecisionPolicy.Default, null, 20, 9));
        var report = new CalibrationReport
        {
            Scored = "/data/out", ConfigHash = "abc", Labels = "column hallucination", Policy = DecisionPolicy.Default.ToString(), Seed = 9, Bootstrap = 20,
            Confidence = 0.95, Scores = result.Scores, Combined = result.Combined, Spans = result.Spans,
            Coverage = new LabelCoverage { Rows = 4, Labelled = 3, Positive = 2, Negative = 1, Unlabelled = 1, UnlabelledSample = ["d"], UnknownIds = 0 },
        };
        var json = report.ToJson();
        var read = CalibrationReport.Parse(json, "calibration.json");
        Assert.Equal(json, read.ToJson());
        Assert.Contains("\"roc_auc\"", System.Text.Encoding.UTF8.GetString(json), StringComparison.Ordinal);
        // Removing a and c (fill −0.5 and 0.1) but not b (0.5) is perfect: the cut lies halfway between 0.1 and 0.5.
        var recommended = read.RecommendedSettings()[0];
        Assert.Equal(ScoreNames.FillCompareMin, recommended.Score);
        Assert.Equal(0.3, recommended.Threshold!.Value, 12);
        var error = Assert.Throws<RiverbedException>(() => CalibrationReport.Parse("{\"version\": 7}"u8, "x.json"));
        Assert.Contains("x.json", error.Message, StringComparison.Ordinal);
    }
}
