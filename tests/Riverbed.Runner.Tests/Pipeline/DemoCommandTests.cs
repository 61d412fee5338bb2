using static Riverbed.Runner.Tests.Pipeline.ScoredOutput;

namespace Riverbed.Runner.Tests.Pipeline;

/// <summary><c>riverbed demo</c>, the README's first command: scores the bundled sample and says where everything is.</summary>
[Trait("Category", "Slow")]
public sealed class DemoCommandTests
{
    [Fact]
    public void The_demo_scores_the_bundled_sample_prints_a_summary_and_where_the_outputs_are()
    {
        using var scratch = new ScratchFolder("demo");
        var output = scratch.File("demo-out");
        var result = Cli.Run(["demo", "--output", output, "--limit", "40"], workingDirectory: scratch.Path);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("| demo.jsonl | committed |      40 |", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(output, "demo.parquet"), result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("throughput:", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("random weights", result.StandardOutput, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(output, "demo.parquet")));
        var stats = Json(Path.Combine(output, "stats.json"));
        Assert.Equal(40, stats.GetProperty("rows_in").GetInt32());
        Assert.Equal(40, stats.GetProperty("kept").GetInt32() + stats.GetProperty("removed").GetInt32());
        Assert.True(stats.GetProperty("tokens").GetProperty("mlm").GetInt64() > 0);
        Assert.True(stats.GetProperty("masked_positions").GetInt64() > 0);

        // The scored shard reads back through an independent Parquet implementation with the rows Riverbed's own
        // (DuckDB) reader gives `riverbed filter`: every column, nested turns and spans included.
        var independent = IndependentParquet.ReadRows(Path.Combine(output, "demo.parquet"));
        Assert.Equal(40, independent.Count);
        var filtered = scratch.File("filtered");
        var filter = Cli.Run("filter", output, "--output", filtered, "--format", "jsonl");
        Assert.True(filter.ExitCode == ExitCodes.Success, filter.ToString());
        var byId = Directory.GetFiles(filtered, "*.jsonl", SearchOption.AllDirectories).SelectMany(Rows)
            .ToDictionary(row => row.GetProperty("riverbed_id").GetString()!);
        Assert.Equal(40, byId.Count);
        foreach (var row in independent)
        {
            Assert.True(row["riverbed_turns"]!.AsArray().Count >= 2, row.ToJsonString());
            // filter read demo.parquet, so its rows name that file as their source; everything else must be equal.
            var source = row["riverbed_source"]!.GetValue<string>();
            row.Remove("riverbed_source");
            Assert.Equal("demo.jsonl", source);
            var differences = IndependentParquet.Differences(byId[(string)row["riverbed_id"]!], row, onlyActualProperties: true);
            Assert.True(differences.Count == 0, string.Join("\n", differences.Take(20)));
        }
        Assert.Contains(independent, row => row["riverbed_spans"]!.AsArray().Count > 0);

        var again = Cli.Run(["demo", "--output", output, "--limit", "40"], workingDirectory: scratch.Path);
        Assert.True(again.ExitCode == ExitCodes.Success, again.ToString());
        Assert.Contains("skipped, already complete", again.StandardOutput, StringComparison.Ordinal);
    }
}
