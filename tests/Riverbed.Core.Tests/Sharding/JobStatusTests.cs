using Riverbed.IO;
using Riverbed.Sharding;

namespace Riverbed.Core.Tests.Sharding;

/// <summary>Status tells complete, pending, failed and stale shards apart, each with its cause; plans cover only the rest.</summary>
public sealed class JobStatusTests
{
    [Fact]
    public async Task Every_state_and_cause_is_told_apart()
    {
        using var job = new ShardedJob(7);
        job.Record(3);
        await job.CommitAsync(0, 1, 2, 3, 4);

        // 1: truncated after commit; 2: input rewritten since; 3: the manifest is garbage; 4: complete.
        var bytes = File.ReadAllBytes(job.OutputFile(1));
        File.WriteAllBytes(job.OutputFile(1), bytes[..(bytes.Length / 2)]);
        job.WriteShard(ShardedJob.ShardName(2), 5);
        File.WriteAllText(job.ManifestFile(3), "{ not a manifest");
        // 5: an attempt failed and said why; 6: never attempted.
        FailureMarker.Write(job.OutputFolder, "part-05", "12 rejects, over the budget of 0 (--max-rejects)", new WorkerRank(2, 3, RankSource.Slurm, "test"));

        var status = JobStatus.Scan(job.OutputFolder);
        Assert.Equal(
            [
                (ShardProgress.Complete, ShardCause.Verified),
                (ShardProgress.Stale, ShardCause.HashMismatch),
                (ShardProgress.Stale, ShardCause.InputChanged),
                (ShardProgress.Stale, ShardCause.UnreadableManifest),
                (ShardProgress.Complete, ShardCause.Verified),
                (ShardProgress.Failed, ShardCause.LastAttemptFailed),
                (ShardProgress.Pending, ShardCause.MissingManifest),
            ],
            status.Shards.Select(s => (s.Progress, s.Cause)));
        Assert.Equal([0, 1, 2, 0, 1, 2, 0], status.Shards.Select(s => s.Rank!.Value));
        Assert.Contains("part-01.jsonl does not match its manifest", status.Shards[1].Reason, StringComparison.Ordinal);
        Assert.StartsWith("last attempt failed: 12 rejects, over the budget of 0 (--max-rejects) (rank 2 of 3, ", status.Shards[5].Reason, StringComparison.Ordinal);
        Assert.Equal((2, 1, 1, 3), (status.Count(ShardProgress.Complete), status.Count(ShardProgress.Pending), status.Count(ShardProgress.Failed), status.Count(ShardProgress.Stale)));
        Assert.False(status.AllComplete);
        Assert.Equal(["part-01.jsonl", "part-02.jsonl", "part-03.jsonl", "part-05.jsonl", "part-06.jsonl"], status.Incomplete.Select(s => s.Shard.Name));
    }

    [Fact]
    public async Task A_shard_committed_under_another_configuration_is_config_drift()
    {
        using var job = new ShardedJob(2);
        job.Record(1);
        await job.CommitAsync(0, 1);
        job.Record(1, configHash: "fedcba9876543210", force: true);
        var status = JobStatus.Scan(job.OutputFolder);
        Assert.All(status.Shards, s => Assert.Equal((ShardProgress.Stale, ShardCause.ConfigDrift), (s.Progress, s.Cause)));
        Assert.Contains($"committed with configuration {job.ConfigHash}, the job's is fedcba9876543210", status.Shards[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_manifest_wins_over_a_failure_marker_left_by_an_earlier_attempt()
    {
        using var job = new ShardedJob(1);
        job.Record(1);
        FailureMarker.Write(job.OutputFolder, "part-00", "earlier attempt", WorkerRank.Single);
        await job.CommitAsync(0);
        var status = JobStatus.Scan(job.OutputFolder);
        Assert.True(status.AllComplete);
        FailureMarker.Clear(job.OutputFolder, "part-00");
        Assert.Null(FailureMarker.TryRead(job.OutputFolder, "part-00"));
    }

    [Fact]
    public async Task A_deleted_input_and_leftover_temporaries_are_reported()
    {
        using var job = new ShardedJob(2);
        job.Record(1);
        await job.CommitAsync(0);
        File.Delete(job.InputPath(0));
        File.WriteAllText(Path.Combine(job.OutputFolder, ".part-01.jsonl.4242-abcdef.tmp"), "half");
        var status = JobStatus.Scan(job.OutputFolder);
        Assert.Equal((ShardProgress.Stale, ShardCause.InputMissing), (status.Shards[0].Progress, status.Shards[0].Cause));
        Assert.Equal([".part-01.jsonl.4242-abcdef.tmp"], status.LeftoverTemporaries);
    }

    [Fact]
    public void A_folder_without_a_job_record_is_an_error_saying_who_writes_it()
    {
        using var job = new ShardedJob(1);
        Directory.CreateDirectory(job.OutputFolder);
        var error = Assert.Throws<JobRecordException>(() => JobStatus.Scan(job.OutputFolder));
        Assert.Contains("has no job record (.riverbed/assignment.json)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_plan_covers_only_the_incomplete_shards_through_a_pinned_list_that_reads_back()
    {
        using var job = new ShardedJob(6);
        job.Record(3);
        await job.CommitAsync(0, 2, 3);
        var plan = WorkPlanner.Plan(job.OutputFolder, job.Root, tasks: 3)!;
        Assert.Equal(3, plan.WorldSize);
        Assert.Equal(["part-01.jsonl", "part-04.jsonl", "part-05.jsonl"], plan.Shards);
        Assert.Equal((6, 3), (plan.TotalShards, plan.CompleteShards));
        var list = Path.Combine(job.Root, plan.ShardListArgument!);
        Assert.StartsWith(Path.Combine(job.OutputFolder, ".riverbed", "lists"), list, StringComparison.Ordinal);
        Assert.Equal(plan.Shards, ShardAssignment.Pinned(job.Inputs(), list, plan.WorldSize).Shards.Select(s => s.Name));

        var fewer = WorkPlanner.Plan(job.OutputFolder, job.Root, tasks: 2)!;
        Assert.Equal(2, fewer.WorldSize);
        var more = WorkPlanner.Plan(job.OutputFolder, job.Root, tasks: 10)!;
        Assert.Equal(3, more.WorldSize);
    }

    [Fact]
    public async Task A_plan_for_a_job_with_nothing_done_deals_out_every_shard_and_a_finished_job_needs_none()
    {
        using var job = new ShardedJob(4);
        var fresh = WorkPlanner.Plan(job.OutputFolder, job.Root, tasks: 8, job.Inputs())!;
        Assert.Equal((4, null, 4), (fresh.WorldSize, fresh.ShardListArgument, fresh.TotalShards));
        var unknown = WorkPlanner.Plan(job.OutputFolder, job.Root, tasks: 8)!;
        Assert.Equal((8, null, 0), (unknown.WorldSize, unknown.ShardListArgument, unknown.TotalShards));

        job.Record(2);
        var again = WorkPlanner.Plan(job.OutputFolder, job.Root, tasks: 2)!;
        Assert.Equal((2, null), (again.WorldSize, again.ShardListArgument));

        await job.CommitAsync(0, 1, 2, 3);
        Assert.Null(WorkPlanner.Plan(job.OutputFolder, job.Root, tasks: 2));
    }

    [Fact]
    public void A_plan_refuses_inputs_other_than_the_recorded_ones()
    {
        using var job = new ShardedJob(2);
        job.Record(1);
        job.WriteShard("part-05.jsonl", 1);
        var error = Assert.Throws<JobRecordException>(() => WorkPlanner.Plan(job.OutputFolder, job.Root, 1, job.Inputs()));
        Assert.Contains("not the 2 file(s) recorded", error.Message, StringComparison.Ordinal);
    }
}
