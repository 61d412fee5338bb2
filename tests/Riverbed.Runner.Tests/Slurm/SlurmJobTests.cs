using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Riverbed.Runner.Tests.Slurm;

/// <summary>
/// Riverbed under the real scheduler: scripts written by <c>riverbed emit slurm</c>, submitted with <c>sbatch</c> to the
/// one-node cluster of <see cref="SlurmCluster"/>, run by slurmd as job arrays with their dependent merge-stats job,
/// signalled and requeued the ways Slurm does it. Every wait is bounded; a failure message carries the job's logs.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(SlurmCollection.Name)]
public sealed partial class SlurmJobTests(SlurmCluster cluster)
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(4);

    [SkippableFact]
    public void Six_shards_over_three_array_tasks_complete_and_the_dependent_merge_writes_what_one_process_writes()
    {
        cluster.Require();
        using var job = new SlurmWorkspace(shards: 6, rowsPerShard: 4);
        var script = job.Emit("riverbed.sbatch", "--tasks", "3");
        Assert.Contains("#SBATCH --array=0-2\n", File.ReadAllText(script), StringComparison.Ordinal);

        var array = cluster.Submit(script, job.Folder);
        cluster.WaitUntilIdle(JobTimeout);

        for (var task = 0; task < 3; task++)
        {
            var show = cluster.Show($"{array}_{task}");
            Assert.True(show.Contains("JobState=COMPLETED", StringComparison.Ordinal) && show.Contains(" ExitCode=0:0", StringComparison.Ordinal),
                $"task {task}:\n{show}\n{job.AllLogs()}");
            Assert.Contains(" Restarts=0 ", show, StringComparison.Ordinal);
        }
        var status = job.Status(json: true);
        Assert.True(status.ExitCode == ExitCodes.Success, status + job.AllLogs());
        // The ranks came from SLURM_ARRAY_TASK_ID/COUNT: each shard was done by the task the by-size assignment gives it.
        var dealt = Riverbed.Sharding.ShardAssignment.BySize(Riverbed.IO.InputResolver.Resolve([job.Inputs]), 3);
        var expected = dealt.Shards.Select((shard, i) => (shard.Name, Rank: dealt.RankOf(i))).ToDictionary(pair => pair.Name, pair => pair.Rank);
        foreach (var shard in JsonDocument.Parse(status.StandardOutput).RootElement.GetProperty("shards").EnumerateArray())
        {
            Assert.Equal(expected[shard.GetProperty("name").GetString()!], shard.GetProperty("rank").GetInt32());
        }

        // stats.json is the dependent job's work: it ran after every task, succeeded, and wrote the file last.
        var merge = job.MergeJobOf(array);
        var mergeShow = cluster.Show(merge);
        Assert.True(mergeShow.Contains("JobState=COMPLETED", StringComparison.Ordinal) && mergeShow.Contains(" ExitCode=0:0", StringComparison.Ordinal),
            $"merge-stats job {merge}:\n{mergeShow}\n{job.AllLogs()}");
        var mergeStart = Time(mergeShow, "StartTime");
        for (var task = 0; task < 3; task++)
        {
            Assert.True(mergeStart >= Time(cluster.Show($"{array}_{task}"), "EndTime"), $"merge-stats started before task {task} ended:\n{mergeShow}");
        }
        var mergeLog = File.ReadAllText(Path.Combine(job.Logs, $"slurm-{merge}-merge-stats.out"));
        Assert.Contains("merged 6 complete shard(s) of 6", mergeLog, StringComparison.Ordinal);
        var statsWritten = File.GetLastWriteTimeUtc(Path.Combine(job.Output, "stats.json"));
        foreach (var rankRecord in Directory.EnumerateFiles(Path.Combine(job.Output, "stats")))
        {
            Assert.True(statsWritten >= File.GetLastWriteTimeUtc(rankRecord), $"stats.json is older than {rankRecord}");
        }

        Assert.Equal(job.ExpectedIds, job.ScoredIds());
        AssertSameAsOneProcess(job);
    }

    [SkippableFact]
    public void Tasks_stopped_by_sigterm_or_requeued_by_slurm_rerun_and_the_job_completes_with_no_row_lost_or_duplicated()
    {
        cluster.Require();
        // --grace 0: a stopped worker abandons its shards in flight at once, so the rerun must redo them.
        using var job = new SlurmWorkspace(shards: 6, rowsPerShard: 30, "--grace", "0");
        var array = cluster.Submit(job.Emit("riverbed.sbatch", "--tasks", "2"), job.Folder);

        // Each task is stopped once its worker is scoring (it has 90 rows, several seconds of work, to go).
        WaitForScoring(job, array, task: 0);
        // A warning signal to the batch shell (what a time limit or a preemption notice sends): the shell passes it
        // on, the worker stops and exits 130, and the task requeues itself.
        Assert.Equal(0, cluster.Client("scancel", "--batch", "--signal=TERM", $"{array}_0").ExitCode);
        WaitForScoring(job, array, task: 1);
        // The scheduler's own requeue (what preemption in REQUEUE mode does): Slurm signals every process of the task,
        // the worker stops gracefully (one SIGTERM, not two), and Slurm queues the task again.
        var requeue = cluster.Client("scontrol", "requeue", $"{array}_1");
        Assert.True(requeue.ExitCode == 0, requeue.Output);

        cluster.WaitUntilIdle(JobTimeout);

        for (var task = 0; task < 2; task++)
        {
            var show = cluster.Show($"{array}_{task}");
            Assert.True(show.Contains("JobState=COMPLETED", StringComparison.Ordinal) && show.Contains(" Restarts=1 ", StringComparison.Ordinal),
                $"task {task} should have completed after one restart:\n{show}\n{job.AllLogs()}");
        }
        foreach (var task in new[] { 0, 1 })
        {
            var log = File.ReadAllText(Path.Combine(job.Logs, $"slurm-{array}_{task}.out"));
            Assert.True(log.Contains("riverbed: worker exited with 130", StringComparison.Ordinal) && log.Contains("restart 1,", StringComparison.Ordinal),
                job.AllLogs());
        }
        // Slurm requeued task 1 itself; its script must not have asked for a second requeue.
        Assert.Contains("not requeueing", File.ReadAllText(Path.Combine(job.Logs, $"slurm-{array}_1.out")), StringComparison.Ordinal);

        var status = job.Status(json: true);
        Assert.True(status.ExitCode == ExitCodes.Success, status + job.AllLogs());
        Assert.Empty(JsonDocument.Parse(status.StandardOutput).RootElement.GetProperty("temporaries").EnumerateArray());
        var ids = job.ScoredIds();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(job.ExpectedIds, ids);
        // The merge depends on the whole array, requeued tasks included: it must have seen all six shards.
        Assert.Contains("merged 6 complete shard(s) of 6", File.ReadAllText(Path.Combine(job.Logs, $"slurm-{job.MergeJobOf(array)}-merge-stats.out")),
            StringComparison.Ordinal);
        AssertSameAsOneProcess(job);
    }

    [SkippableFact]
    public void A_shard_over_its_reject_budget_fails_its_task_status_names_it_and_a_second_emit_covers_only_it()
    {
        cluster.Require();
        using var job = new SlurmWorkspace(shards: 6, rowsPerShard: 4, "--max-rejects", "1");
        File.AppendAllLines(job.InputShard(3), ["{\"text\": not json", "not json either"]);
        var first = cluster.Submit(job.Emit("riverbed.sbatch", "--tasks", "3"), job.Folder);
        cluster.WaitUntilIdle(JobTimeout);

        // The task the by-size assignment gave part-3 finished with the partial-failure code and was not requeued:
        // rerunning cannot help.
        var dealt = Riverbed.Sharding.ShardAssignment.BySize(Riverbed.IO.InputResolver.Resolve([job.Inputs]), 3);
        var task = dealt.RankOf(dealt.Shards.Select(shard => shard.Name).ToList().IndexOf("part-3.jsonl"));
        var failedTask = cluster.Show($"{first}_{task}");
        Assert.True(failedTask.Contains($" ExitCode={ExitCodes.PartialFailure}:0", StringComparison.Ordinal)
            && failedTask.Contains(" Restarts=0 ", StringComparison.Ordinal), failedTask + job.AllLogs());
        var status = job.Status();
        Assert.True(status.ExitCode == ExitCodes.Incomplete, status.ToString());
        var line = status.StandardOutput.Split('\n').Single(l => l.Contains("part-3", StringComparison.Ordinal));
        Assert.Contains("failed", line, StringComparison.Ordinal);
        Assert.Contains("reject", line, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("summary: 5 complete, 0 pending, 1 failed", status.StandardOutput, StringComparison.Ordinal);

        // The second script: one task, pinned to a list naming only the failed shard (world size from the record).
        var rerun = job.EmitResult("rerun.sbatch");
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        Assert.Contains("1 of 6 shard(s) over 1 rank(s); 5 already complete", rerun.StandardError, StringComparison.Ordinal);
        var script = File.ReadAllText(Path.Combine(job.Folder, "rerun.sbatch"));
        Assert.Contains("#SBATCH --array=0-0\n", script, StringComparison.Ordinal);
        var list = ShardListArgument().Match(script);
        Assert.True(list.Success, script);
        Assert.Equal(["part-3.jsonl"], File.ReadAllLines(Path.Combine(job.Folder, list.Groups[1].Value))
            .Where(l => l.Length > 0 && !l.StartsWith('#')));

        // The curator fixes the input and submits.
        File.WriteAllLines(job.InputShard(3), File.ReadAllLines(job.InputShard(3)).Take(4).ToArray());
        var second = cluster.Submit(Path.Combine(job.Folder, "rerun.sbatch"), job.Folder);
        cluster.WaitUntilIdle(JobTimeout);

        Assert.Contains(" ExitCode=0:0", cluster.Show($"{second}_0"), StringComparison.Ordinal);
        var done = job.Status();
        Assert.True(done.ExitCode == ExitCodes.Success, done + job.AllLogs());
        Assert.Equal(job.ExpectedIds, job.ScoredIds());
        Assert.NotEqual(job.MergeJobOf(first), job.MergeJobOf(second));
        var mergeLog = File.ReadAllText(Path.Combine(job.Logs, $"slurm-{job.MergeJobOf(second)}-merge-stats.out"));
        Assert.Contains("merged 6 complete shard(s) of 6", mergeLog, StringComparison.Ordinal);
        var stats = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(job.Output, "stats.json"))).RootElement;
        Assert.Equal((6, 24, 0), (stats.GetProperty("shards").GetInt32(), stats.GetProperty("rows_in").GetInt32(), stats.GetProperty("rows_rejected").GetInt32()));

        var nothing = job.EmitResult("nothing.sbatch");
        Assert.True(nothing.ExitCode == ExitCodes.Success, nothing.ToString());
        Assert.Contains("nothing to submit", nothing.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(job.Folder, "nothing.sbatch")));
    }

    [SkippableFact]
    public void A_task_the_curator_cancels_stays_cancelled()
    {
        cluster.Require();
        using var job = new SlurmWorkspace(shards: 4, rowsPerShard: 30, "--grace", "0");
        var array = cluster.Submit(job.Emit("riverbed.sbatch", "--tasks", "1"), job.Folder);
        WaitForScoring(job, array, task: 0);
        // Plain scancel sends SIGTERM to the worker as well, which then exits 130 as after a time-limit warning.
        Assert.Equal(0, cluster.Client("scancel", $"{array}_0").ExitCode);
        cluster.WaitUntilIdle(JobTimeout);

        var show = cluster.Show($"{array}_0");
        Assert.True(show.Contains("JobState=CANCELLED", StringComparison.Ordinal) && show.Contains(" Restarts=0 ", StringComparison.Ordinal),
            $"the cancelled task came back:\n{show}\n{job.AllLogs()}");
        Assert.True(File.ReadAllText(Path.Combine(job.Logs, $"slurm-{array}_0.out")).Contains("not requeueing", StringComparison.Ordinal), job.AllLogs());
        Assert.Equal(ExitCodes.Incomplete, job.Status().ExitCode);
    }

    /// <summary>Byte for byte the shards, and value for value stats.json, of the same job run as one process.</summary>
    private static void AssertSameAsOneProcess(SlurmWorkspace job)
    {
        job.ScoreInOneProcess("reference");
        foreach (var (slurm, single) in job.ScoredShards().Zip(job.ScoredShards("reference")))
        {
            Assert.True(File.ReadAllBytes(slurm).AsSpan().SequenceEqual(File.ReadAllBytes(single)), $"{slurm} differs from {single}");
        }
        var merged = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(job.Output, "stats.json"))).RootElement;
        var reference = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(job.Folder, "reference", "stats.json"))).RootElement;
        Assert.True(JsonElement.DeepEquals(merged, reference), $"merged stats.json:\n{merged}\nsingle process:\n{reference}");
    }

    /// <summary>Waits until the task's worker has opened the models and started on its shards.</summary>
    private void WaitForScoring(SlurmWorkspace job, string array, int task)
    {
        var log = Path.Combine(job.Logs, $"slurm-{array}_{task}.out");
        WaitFor(() => File.Exists(log) && File.ReadAllText(log).Contains("riverbed score:", StringComparison.Ordinal), job, $"task {task} to start scoring");
    }

    private void WaitFor(Func<bool> condition, SlurmWorkspace job, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > JobTimeout)
            {
                Assert.Fail($"gave up waiting for {what} after {JobTimeout.TotalSeconds:0} s\nqueue: {string.Join(", ", cluster.Queue())}\n{job.AllLogs()}\n{cluster.Logs()}");
            }
            Thread.Sleep(100);
        }
    }

    /// <summary>A time field of <c>scontrol show job</c> (whole seconds, the controller's local time).</summary>
    private static DateTime Time(string show, string field)
    {
        var match = Regex.Match(show, $@"\b{field}=(\S+)");
        Assert.True(match.Success, $"no {field} in:\n{show}");
        return DateTime.ParseExact(match.Groups[1].Value, "yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"--shard-list (\S+)")]
    private static partial Regex ShardListArgument();
}
