using System.Text.Json;
using Riverbed.Runner.Report;
using Riverbed.Scoring;

namespace Riverbed.Runner.Tests.Report;

/// <summary>Reading what a run folder records: the policy in run.json, and stats.json (loading, refusing, merging).</summary>
public sealed class ReportInputsTests
{
    [Theory]
    [InlineData("""{ "policy": { "combine": "any", "thresholds": ["fill_compare_min<0", "contradiction_max>0.5"] } }""")]
    [InlineData("""{ "policy": "any(fill_compare_min<0, contradiction_max>0.5)" }""")]
    [InlineData("""{ "scoring": { "decision": [{ "score": "fill_compare_min", "direction": "below", "value": 0 }, { "score": "contradiction_max", "value": 0.5 }] } }""")]
    public void The_policy_is_found_in_each_form_run_json_may_record_it(string config)
    {
        using var document = JsonDocument.Parse(config);
        var thresholds = RunRecord.FindThresholds(document.RootElement);
        Assert.Equal(
            [new ScoreThreshold("fill_compare_min", ThresholdDirection.Below, 0), new ScoreThreshold("contradiction_max", ThresholdDirection.Above, 0.5)],
            thresholds);
    }

    [Fact]
    public void A_policy_the_report_cannot_read_gives_no_thresholds_rather_than_wrong_ones()
    {
        using var document = JsonDocument.Parse("""{ "policy": { "thresholds": ["perplexity<3"] } }""");
        Assert.Null(RunRecord.FindThresholds(document.RootElement));
    }

    [Fact]
    public void Shard_stats_merge_by_adding_counts_and_bins()
    {
        using var scratch = new ScratchFolder("stats");
        var a = Write(scratch, "a.json", rowsOut: 3, bins: [1, 2, 0, 0], min: -0.5, max: 0.2);
        var b = Write(scratch, "b.json", rowsOut: 2, bins: [0, 0, 1, 1], min: 0.4, max: 0.9);
        var merged = RunStatistics.Merge([RunStatistics.Load(a), RunStatistics.Load(b)]);
        Assert.Equal(5, merged.RowsOut);
        Assert.Equal(2, merged.Shards);
        Assert.Equal(2, merged.RemovedByReason["fill_compare_min<0"]);
        var score = merged.Scores["fill_compare_min"];
        Assert.Equal([1L, 2, 1, 1], score.Histogram!.Bins);
        Assert.Equal((-0.5, 0.9), (score.Min, score.Max));
    }

    [Fact]
    public void A_stats_file_of_another_format_or_with_a_bad_field_is_refused_with_its_path()
    {
        using var scratch = new ScratchFolder("stats-bad");
        File.WriteAllText(scratch.File("other.json"), """{ "format": "something/2" }""");
        var other = Assert.Throws<RiverbedException>(() => RunStatistics.Load(scratch.File("other.json")));
        Assert.Contains("other.json: format is 'something/2', expected 'riverbed-stats/1'", other.Message, StringComparison.Ordinal);

        var text = File.ReadAllText(Write(scratch, "good.json", 1, [1, 0, 0, 0], 0, 0)).Replace("\"bins\": [", "\"bins\": [\"x\", ", StringComparison.Ordinal);
        File.WriteAllText(scratch.File("bins.json"), text);
        var bins = Assert.Throws<RiverbedException>(() => RunStatistics.Load(scratch.File("bins.json")));
        Assert.Contains("bins.json: scores.fill_compare_min.histogram.bins[0] is not a count", bins.Message, StringComparison.Ordinal);

        File.WriteAllText(scratch.File("truncated.json"), "{ \"format\": \"riverbed-stats/1\", ");
        var truncated = Assert.Throws<RiverbedException>(() => RunStatistics.Load(scratch.File("truncated.json")));
        Assert.Contains("truncated.json is not valid JSON", truncated.Message, StringComparison.Ordinal);
    }

    private static string Write(ScratchFolder scratch, string name, long rowsOut, long[] bins, double min, double max)
    {
        var removed = rowsOut - 2 < 0 ? 0 : 1;
        var json = $$"""
            {
              "format": "riverbed-stats/1", "shards": 1,
              "rows_in": {{rowsOut}}, "rows_out": {{rowsOut}}, "rows_rejected": 0, "rows_failed": 0,
              "kept": {{rowsOut - removed}}, "removed": {{removed}}, "removed_by_reason": { "fill_compare_min<0": {{removed}} },
              "rejects_by_kind": {}, "turns_scored": 0, "masked_positions": 0, "mismatches": 0, "entities": 0, "sentence_pairs": 0,
              "tokens": { "mlm": 0, "nli": 0, "rtd": 0, "ner": 0 },
              "scores": { "fill_compare_min": { "count": {{bins.Sum()}}, "missing": 0, "sum": 0.5, "sum_squares": 0.5,
                "min": {{min.ToString(System.Globalization.CultureInfo.InvariantCulture)}}, "max": {{max.ToString(System.Globalization.CultureInfo.InvariantCulture)}},
                "histogram": { "low": -1.0, "high": 1.0, "bins": [{{string.Join(", ", bins)}}] } } }
            }
            """;
        var path = scratch.File(name);
        File.WriteAllText(path, json);
        return path;
    }
}
