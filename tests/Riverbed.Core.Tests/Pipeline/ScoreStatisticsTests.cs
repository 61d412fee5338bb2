using System.Text.Json;
using Riverbed.Pipeline;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>stats.json: fixed bins, exact merging of counts and histograms, and a lossless round trip.</summary>
public sealed class ScoreStatisticsTests
{
    [Theory]
    [InlineData(-1.0, 0)]
    [InlineData(-5.0, 0)]
    [InlineData(-0.95, 1)]
    [InlineData(0.0, 20)]
    [InlineData(0.999, 39)]
    [InlineData(1.0, 39)]
    [InlineData(7.0, 39)]
    public void Fill_compare_scores_fall_in_forty_bins_over_minus_one_to_one(double value, int bin) =>
        Assert.Equal(bin, ScoreSummary.For(ScoreNames.FillCompareMin).BinOf(value));

    [Fact]
    public void Merging_adds_counts_and_bins_in_any_order_and_keeps_min_and_max()
    {
        var shards = Enumerable.Range(0, 5).Select(Shard).ToList();
        var forward = new ScoreStatistics();
        foreach (var shard in shards)
        {
            forward.Merge(shard);
        }
        var backward = new ScoreStatistics();
        foreach (var shard in Enumerable.Reverse(shards))
        {
            backward.Merge(shard);
        }
        Assert.Equal(5, forward.Shards);
        Assert.Equal(forward.RowsIn, shards.Sum(s => s.RowsIn));
        Assert.Equal(forward.RemovedByReason, backward.RemovedByReason);
        Assert.Equal(forward.Scores[ScoreNames.FillCompareMin].Bins, backward.Scores[ScoreNames.FillCompareMin].Bins);
        Assert.Equal(shards.Sum(s => s.Scores[ScoreNames.FillCompareMin].Count), forward.Scores[ScoreNames.FillCompareMin].Count);
        Assert.Equal(-0.9, forward.Scores[ScoreNames.FillCompareMin].Min);
        Assert.Equal(shards.Max(s => s.Scores[ScoreNames.FillCompareMin].Max), forward.Scores[ScoreNames.FillCompareMin].Max);
        // Sums are exact until written, so every merge order gives the same bits.
        Assert.Equal(forward.ToJson(), backward.ToJson());
    }

    [Fact]
    public void Written_shard_statistics_merge_to_the_same_bytes_whatever_the_order_or_grouping_into_ranks()
    {
        // What merge-stats does: shard files are the truth; ranks group them, and the total must not depend on how.
        var shards = Enumerable.Range(0, 12).Select(seed => ScoreStatistics.Parse(Shard(seed + 10).ToJson(), "shard.stats.json")).ToList();
        var direct = new ScoreStatistics();
        foreach (var shard in shards)
        {
            direct.Merge(shard);
        }
        var random = new Random(5);
        foreach (var world in new[] { 2, 3, 5 })
        {
            var ranks = Enumerable.Range(0, world).Select(_ => new ScoreStatistics()).ToList();
            foreach (var (shard, index) in shards.Select((shard, index) => (shard, index)).OrderBy(_ => random.Next()))
            {
                ranks[index % world].Merge(shard);
            }
            var total = new ScoreStatistics();
            foreach (var rank in Enumerable.Reverse(ranks))
            {
                total.Merge(rank);
            }
            Assert.Equal(direct.ToJson(), total.ToJson());
        }
        Assert.Equal(direct.ToJson(), direct.Snapshot().ToJson());
    }

    [Fact]
    public void The_json_form_round_trips_and_follows_the_format()
    {
        var original = Shard(3);
        var json = original.ToJson();
        var copy = ScoreStatistics.Parse(json, "shard.stats.json");
        Assert.Equal(json, copy.ToJson());
        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal("riverbed-stats/1", root.GetProperty("format").GetString());
        Assert.Equal(root.GetProperty("rows_in").GetInt64(),
            root.GetProperty("rows_out").GetInt64() + root.GetProperty("rows_rejected").GetInt64() + root.GetProperty("rows_failed").GetInt64());
        var histogram = root.GetProperty("scores").GetProperty("replaced_entity_max").GetProperty("histogram");
        Assert.Equal((0.0, 1.0, 20), (histogram.GetProperty("low").GetDouble(), histogram.GetProperty("high").GetDouble(), histogram.GetProperty("bins").GetArrayLength()));
        Assert.Equal(["mlm", "nli", "rtd", "ner"], root.GetProperty("tokens").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Per_source_counts_add_up_to_the_totals_by_source_and_reason_after_any_grouping()
    {
        var shards = Enumerable.Range(0, 6).Select(seed => ScoreStatistics.Parse(Shard(seed).ToJson(), "shard.stats.json")).ToList();
        var left = new ScoreStatistics();
        var right = new ScoreStatistics();
        foreach (var (shard, index) in shards.Select((shard, index) => (shard, index)))
        {
            (index % 2 == 0 ? left : right).Merge(shard);
        }
        var total = new ScoreStatistics();
        total.Merge(right);
        total.Merge(left);
        Assert.Equal(shards.Select((_, seed) => Source(seed)), total.Sources.Keys);
        Assert.Equal(total.RowsIn, total.Sources.Values.Sum(s => s.RowsIn));
        Assert.Equal(total.Removed, total.Sources.Values.Sum(s => s.Removed));
        Assert.Equal(total.Kept, total.Sources.Values.Sum(s => s.Kept));
        foreach (var (reason, count) in total.RemovedByReason)
        {
            Assert.Equal(count, total.Sources.Values.Sum(s => s.RemovedByReason.GetValueOrDefault(reason)));
        }
        var third = total.Sources[Source(3)];
        Assert.Equal((shards[3].RowsIn, shards[3].Kept, shards[3].Removed, 1L, 1L), (third.RowsIn, third.Kept, third.Removed, third.RowsRejected, third.RowsFailed));
        Assert.Equal(total.ToJson(), ScoreStatistics.Parse(total.ToJson(), "stats.json").ToJson());
    }

    [Fact]
    public void Statistics_written_before_per_source_counts_still_read()
    {
        var json = System.Text.Encoding.UTF8.GetString(Shard(1).ToJson());
        var cut = json.IndexOf(",\n  \"sources\"", StringComparison.Ordinal);
        Assert.True(cut > 0, json);
        var old = json[..cut] + "\n}\n";
        Assert.Empty(ScoreStatistics.Parse(System.Text.Encoding.UTF8.GetBytes(old), "old.stats.json").Sources);
    }

    [Fact]
    public void A_file_whose_counts_do_not_reconcile_is_refused_with_its_path()
    {
        var json = System.Text.Encoding.UTF8.GetString(Shard(1).ToJson()).Replace("\"rows_in\": ", "\"rows_in\": 1", StringComparison.Ordinal);
        var error = Assert.Throws<RiverbedException>(() => ScoreStatistics.Parse(System.Text.Encoding.UTF8.GetBytes(json), "x.stats.json"));
        Assert.Contains("x.stats.json", error.Message, StringComparison.Ordinal);
    }

    private static string Source(int seed) => "sub/part-" + seed.ToString("00", System.Globalization.CultureInfo.InvariantCulture) + ".jsonl";

    private static ScoreStatistics Shard(int seed)
    {
        var statistics = new ScoreStatistics { Shards = 1 };
        var random = new Random(seed);
        for (var i = 0; i < 50; i++)
        {
            var fill = i == 0 && seed == 2 ? -0.9 : Math.Round((random.NextDouble() * 1.6) - 0.5, 3);
            var scores = new Dictionary<string, double?>
            {
                [ScoreNames.FillCompareMin] = fill,
                [ScoreNames.FillCompareMean] = fill + 0.1,
                [ScoreNames.ReplacedEntityMax] = random.NextDouble(),
                [ScoreNames.ContradictionMax] = i % 7 == 0 ? null : random.NextDouble(),
            };
            var decision = DecisionPolicy.Default.Decide(scores);
            statistics.AddRow(new ExampleFacts(decision, scores, 1, 3, 1, 2, 1, new ModelTokenCounts(30, 60, 20, 0)));
        }
        statistics.AddReject("invalid_json");
        statistics.AddFailed();
        statistics.AttributeTo(Source(seed));
        return statistics;
    }
}
