using System.Text.Json;
using static Riverbed.Runner.Tests.Pipeline.ScoredOutput;

namespace Riverbed.Runner.Tests.Pipeline;

/// <summary><c>riverbed filter</c>: decisions from saved scores alone, reproduced for the same thresholds, changed for others.</summary>
[Collection(PipelineModels.Collection)]
public sealed class FilterCommandTests(PipelineModels models)
{
    private const string Shard = "alpaca_data_first2000";

    [Fact]
    public void Filtering_with_the_scored_thresholds_reproduces_the_decisions_of_score_split_into_kept_and_removed()
    {
        Assert.True(models.AlpacaRun.ExitCode == ExitCodes.Success, models.AlpacaRun.ToString());
        using var scratch = new ScratchFolder("filter");
        var output = scratch.File("out");
        var result = Cli.Run("filter", models.AlpacaOutput, "--output", output, "--format", "jsonl");
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());

        var scored = Rows(Path.Combine(models.AlpacaOutput, Shard + ".jsonl"));
        var kept = Rows(Path.Combine(output, "kept", Shard + ".jsonl"));
        var removed = Rows(Path.Combine(output, "removed", "contradiction_max", Shard + ".jsonl"));
        Assert.Equal(scored.Where(r => Decision(r) == "keep").Select(Id), kept.Select(Id));
        Assert.Equal(scored.Where(r => Decision(r) == "remove").Select(Id), removed.Select(Id));
        Assert.NotEmpty(removed);
        Assert.All(kept, row => Assert.Equal("keep", Decision(row)));
        Assert.All(removed, row => Assert.Equal(["contradiction_max>0.5"], Strings(row.GetProperty("riverbed_reasons"))));
        // The score columns and evidence pass through untouched.
        var first = removed[0];
        var original = scored.Single(r => Id(r) == Id(first));
        Assert.Equal(original.GetProperty("riverbed_spans").ToString(), first.GetProperty("riverbed_spans").ToString());
        Assert.Equal(original.GetProperty("output").GetString(), first.GetProperty("output").GetString());

        var stats = Json(Path.Combine(output, "stats.json"));
        Assert.Equal(removed.Count, stats.GetProperty("removed").GetInt32());
        Assert.Equal(Json(Path.Combine(models.AlpacaOutput, "stats.json")).GetProperty("sentence_pairs").GetInt32(), stats.GetProperty("sentence_pairs").GetInt32());
        var run = Json(Path.Combine(output, "run.json"));
        Assert.Equal(models.AlpacaOutput, run.GetProperty("source").GetString());
        Assert.Equal(Json(Path.Combine(output, Shard + ".manifest.json")).GetProperty("config_hash").GetString(), run.GetProperty("config_hash").GetString());

        var again = Cli.Run("filter", models.AlpacaOutput, "--output", output, "--format", "jsonl");
        Assert.True(again.ExitCode == ExitCodes.Success, again.ToString());
        Assert.Contains("skipped, already complete", again.StandardOutput, StringComparison.Ordinal);
        var other = Cli.Run("filter", models.AlpacaOutput, "--output", output, "--format", "jsonl", "--threshold", "contradiction_max=0.99");
        Assert.Equal(ExitCodes.Failure, other.ExitCode);
        Assert.Contains("filtered with other thresholds", other.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_thresholds_change_the_decisions_without_running_a_model()
    {
        using var scratch = new ScratchFolder("filter");
        var lenient = scratch.File("lenient");
        // Above the oracle's 0.97: nothing is a contradiction any more.
        var result = Cli.Run("filter", models.AlpacaOutput, "--output", lenient, "--threshold", "contradiction_max=0.99", "--format", "jsonl");
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Equal(PipelineModels.AlpacaRows, Rows(Path.Combine(lenient, "kept", Shard + ".jsonl")).Count);
        Assert.False(Directory.Exists(Path.Combine(lenient, "removed")));

        var strict = scratch.File("strict");
        // Below the oracle's 0.01 default: every example with a compared pair is removed.
        result = Cli.Run("filter", models.AlpacaOutput, "--output", strict, "--threshold", "contradiction_max>0.001", "--format", "parquet");
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var scored = Rows(Path.Combine(models.AlpacaOutput, Shard + ".jsonl"));
        var withPairs = scored.Count(r => r.GetProperty("riverbed_contradiction_max").ValueKind == JsonValueKind.Number);
        var stats = Json(Path.Combine(strict, "stats.json"));
        Assert.Equal(withPairs, stats.GetProperty("removed").GetInt32());
        Assert.Equal(withPairs, stats.GetProperty("removed_by_reason").GetProperty("contradiction_max>0.001").GetInt32());
        Assert.True(File.Exists(Path.Combine(strict, "removed", "contradiction_max", Shard + ".parquet")));
        Assert.DoesNotContain("mlm", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_that_was_not_written_by_score_is_refused()
    {
        using var scratch = new ScratchFolder("filter");
        Directory.CreateDirectory(scratch.File("empty"));
        var result = Cli.Run("filter", scratch.File("empty"), "--output", scratch.File("out"));
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains("has no run.json", result.StandardError, StringComparison.Ordinal);
    }

    private static string Decision(JsonElement row) => row.GetProperty("riverbed_decision").GetString()!;

    private static string Id(JsonElement row) => row.GetProperty("riverbed_id").GetString()!;
}
