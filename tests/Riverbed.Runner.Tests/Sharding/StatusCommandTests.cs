using System.Text.Json;
using Riverbed.IO;
using Riverbed.Sharding;

namespace Riverbed.Runner.Tests.Sharding;

/// <summary><c>riverbed status</c>: states with reasons, counts, and an exit code that tells "all complete" from "work left".</summary>
public sealed class StatusCommandTests
{
    [Fact]
    public async Task A_finished_job_reports_every_shard_complete_and_exits_zero()
    {
        using var job = new ShardedJob(3);
        job.Record(2);
        await job.CommitAsync(0, 1, 2);
        var result = Cli.Run("status", job.OutputFolder);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("job: 3 shard(s) over 2 rank(s)", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("summary: 3 complete, 0 pending, 0 failed, 0 stale (3 shard(s))", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("3 in, 3 out, 0 rejected, 0 failed", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Work_left_is_listed_with_reasons_and_exits_with_its_own_code()
    {
        using var job = new ShardedJob(4);
        job.Record(2);
        await job.CommitAsync(0, 1);
        File.AppendAllText(job.OutputFile(1), "{\"sneaked\": true}\n");
        FailureMarker.Write(job.OutputFolder, "part-02", "rejects over budget", new WorkerRank(0, 2, RankSource.CommandLine, "test"));
        var result = Cli.Run("status", job.OutputFolder);
        Assert.True(result.ExitCode == ExitCodes.Incomplete, result.ToString());
        var lines = result.StandardOutput.Split('\n');
        Assert.Contains(lines, line => line.Contains("complete", StringComparison.Ordinal) && line.Contains("part-00.jsonl", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("stale", StringComparison.Ordinal) && line.Contains("part-01.jsonl", StringComparison.Ordinal)
            && line.Contains("hash mismatch", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("failed", StringComparison.Ordinal) && line.Contains("part-02.jsonl", StringComparison.Ordinal)
            && line.Contains("rejects over budget", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("pending", StringComparison.Ordinal) && line.Contains("part-03.jsonl", StringComparison.Ordinal)
            && line.Contains("no manifest", StringComparison.Ordinal) && line.Contains("rank 1", StringComparison.Ordinal));
        Assert.Contains("summary: 1 complete, 1 pending, 1 failed, 1 stale (4 shard(s))", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_json_report_carries_states_causes_and_counts()
    {
        using var job = new ShardedJob(2);
        job.Record(1);
        await job.CommitAsync(0);
        var result = Cli.Run("status", job.OutputFolder, "--json");
        Assert.True(result.ExitCode == ExitCodes.Incomplete, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        var root = json.RootElement;
        Assert.False(root.GetProperty("all_complete").GetBoolean());
        Assert.Equal(1, root.GetProperty("counts").GetProperty("complete").GetInt32());
        Assert.Equal(1, root.GetProperty("counts").GetProperty("pending").GetInt32());
        var shards = root.GetProperty("shards").EnumerateArray().ToList();
        Assert.Equal(["verified", "missing_manifest"], shards.Select(s => s.GetProperty("cause").GetString()));
        Assert.Equal(3, shards[0].GetProperty("rows_out").GetInt64());
        Assert.Equal(job.ConfigHash, root.GetProperty("config_hash").GetString());
    }

    [Fact]
    public void A_folder_that_is_not_a_job_is_a_clear_error()
    {
        using var scratch = new ScratchFolder("status");
        var missing = Cli.Run("status", scratch.File("nothing-here"));
        Assert.Equal(ExitCodes.Failure, missing.ExitCode);
        Assert.Contains("does not exist", missing.StandardError, StringComparison.Ordinal);
        var empty = Cli.Run("status", scratch.Path);
        Assert.Equal(ExitCodes.Failure, empty.ExitCode);
        Assert.Contains("has no job record", empty.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", empty.StandardError, StringComparison.Ordinal);
    }
}
