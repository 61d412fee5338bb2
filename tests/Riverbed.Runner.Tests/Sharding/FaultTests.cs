using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Riverbed.IO;
using Riverbed.Runner.Tests.Pipeline;
using Riverbed.Sharding;

namespace Riverbed.Runner.Tests.Sharding;

/// <summary>
/// Issue 7's faults with real <c>riverbed score</c> processes over one small job (eight shards of joke dialogues, one
/// with two broken lines, scored with models/demo): kill -9 at random points, two workers on one shard, SIGTERM with a
/// grace period, tampering after commit, world-size changes, ranks in separate processes, and the exit codes. Every
/// test ends by comparing the folder with an uninterrupted single-process reference run: same bytes in every data,
/// rejects and stats file, every input row exactly once, no temporaries, and merge-stats giving the reference's totals.
/// </summary>
[Trait("Category", "Process")]
[Trait("Category", "Process")]
public sealed class FaultTests(FaultTests.Job job) : IClassFixture<FaultTests.Job>
{
    public const int Shards = 8;
    public const int RowsPerShard = 12;
    public const int BrokenShard = 3;

    /// <summary>The inputs and their uninterrupted scoring (the reference).</summary>
    public sealed class Job : IDisposable
    {
        private readonly ScratchFolder _scratch = new("faults");

        public Job()
        {
            Inputs = _scratch.File("in");
            Directory.CreateDirectory(Inputs);
            var lines = File.ReadLines(PipelineModels.Jokes).Take(Shards * RowsPerShard).ToList();
            for (var i = 0; i < Shards; i++)
            {
                var shard = lines.Skip(i * RowsPerShard).Take(RowsPerShard).ToList();
                if (i == BrokenShard)
                {
                    shard.Insert(5, "{\"text\": broken");
                    shard.Insert(9, "not json at all");
                }
                File.WriteAllLines(Path.Combine(Inputs, Name(i) + ".jsonl"), shard);
                RowsIn[Name(i)] = shard.Count;
            }
            Reference = _scratch.File("reference");
            var run = Cli.Run(Score(Inputs, Reference));
            Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
            ReferenceFiles = Fingerprint(Reference);
            ReferenceStats = File.ReadAllBytes(Path.Combine(Reference, "stats.json"));
        }

        public string Inputs { get; }

        public string Reference { get; }

        public Dictionary<string, int> RowsIn { get; } = new(StringComparer.Ordinal);

        /// <summary>SHA-256 of every data, rejects, failures and per-shard stats file of the reference.</summary>
        public IReadOnlyDictionary<string, string> ReferenceFiles { get; }

        public byte[] ReferenceStats { get; }

        internal ScratchFolder Scratch(string hint) => new(hint);

        public void Dispose() => _scratch.Dispose();
    }

    /// <summary>A word of one answer of the last shard (row 86 of the jokes: "A lunar eclipse happens ...") and of no other shard.</summary>
    private const string HeldWord = "lunar";

    public static string Name(int index) => string.Create(CultureInfo.InvariantCulture, $"part-{index}");

    private static string[] Score(string inputs, string output, params string[] more) =>
        ["score", inputs, "--models", PipelineModels.Demo, "--output", output, "--format", "jsonl", .. more];

    [Fact]
    public async Task Twenty_kills_at_random_points_then_a_rerun_lose_and_duplicate_nothing_and_match_the_reference()
    {
        using var scratch = job.Scratch("faults-kill");
        var output = scratch.File("out");
        Assert.Equal([Shards - 1], Enumerable.Range(0, Shards)
            .Where(i => File.ReadAllText(Path.Combine(job.Inputs, Name(i) + ".jsonl")).Contains(HeldWord, StringComparison.OrdinalIgnoreCase)));
        var random = new Random(20240611);
        string[] phases = ["before-fsync", "before-rename", "before-manifest", "mid-manifest"];
        var kills = 0;
        var log = new List<string>();
        for (var attempt = 0; attempt < 40 && kills < 20; attempt++)
        {
            // Two of three attempts die at a commit phase (they never commit, so the job is never finished early);
            // the others are killed from outside after a seeded random delay, wherever they are. Those hold the model
            // runs of the last shard's "lunar" answer (a word no other shard has) on a marker that never appears, so
            // however fast the machine, none of them can finish the job: every attempt ends killed, by construction.
            var hook = attempt % 3 != 2;
            var environment = new Dictionary<string, string?>
            {
                ["RIVERBED_FAULT_KILL_AT"] = hook ? phases[attempt % phases.Length] : null,
                ["RIVERBED_FAULT_OOM"] = hook ? null : $"word={HeldWord},hold={scratch.File("never")}",
            };
            using var process = Process.Start(Cli.StartInfo(Score(job.Inputs, output, "--batch-tokens", "64"), environment: environment))!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!hook && !process.WaitForExit(TimeSpan.FromSeconds(0.3 + (1.5 * random.NextDouble()))))
            {
                process.Kill();
            }
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "a run did not end");
            var outcome = $"attempt {attempt} ({(hook ? environment["RIVERBED_FAULT_KILL_AT"] : "random delay")}): exit {process.ExitCode}";
            log.Add(outcome + "\n" + await stdout + await stderr);
            if (process.ExitCode == 137)
            {
                kills++;
            }
            else
            {
                Assert.True(process.ExitCode == ExitCodes.Success, string.Join('\n', log));
            }
        }
        Assert.True(kills >= 20, $"only {kills} kill(s) landed before the job finished:\n{string.Join('\n', log)}");

        var status = Cli.Run("status", output);
        Assert.True(status.ExitCode is ExitCodes.Incomplete or ExitCodes.Success, status.ToString());
        var rerun = Cli.Run(Score(job.Inputs, output));
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        AssertMatchesReference(output);
    }

    [Fact]
    public async Task Two_workers_on_the_same_shards_commit_each_shard_once_and_the_loser_exits_non_zero_cleanly()
    {
        using var scratch = job.Scratch("faults-twins");
        var output = scratch.File("out");
        var release = scratch.File("release");
        var arguments = Score(job.Inputs, output, "--rank", "0", "--world-size", "1");
        // The workers meet by construction, not by luck: the first holds the lock of the first shard (test hook) until
        // the second has run to its end, so the second always finds that shard busy and commits the other seven, and the
        // first, released, commits the held shard and finds the rest committed by the other. No step waits on a clock
        // except the hang guards, so the outcome is the same however the machine schedules the two processes.
        var holding = new Dictionary<string, string?>
        {
            ["RIVERBED_FAULT_HOLD_SHARD"] = Name(0),
            ["RIVERBED_FAULT_HOLD_UNTIL"] = release,
        };
        using var holder = Process.Start(Cli.StartInfo(arguments, environment: holding))!;
        var holderOut = holder.StandardOutput.ReadToEndAsync();
        var holderErr = holder.StandardError.ReadToEndAsync();
        WaitForFile(release + ".held", holder);
        var second = Cli.Run(arguments);
        File.WriteAllText(release, string.Empty);
        Assert.True(holder.WaitForExit(TimeSpan.FromMinutes(3)), "the held worker did not end");
        var first = new CliResult(holder.ExitCode, await holderOut, await holderErr);
        var both = $"{first}\n=====\n{second}";

        Assert.True(first.ExitCode == ExitCodes.Success, both);
        Assert.True(second.ExitCode == ExitCodes.PartialFailure, both);
        Assert.Contains($"shard {Name(0)} is being written by another process (pid {holder.Id.ToString(CultureInfo.InvariantCulture)} ", second.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", both, StringComparison.Ordinal);
        for (var i = 0; i < Shards; i++)
        {
            var committedLine = $"/{Name(i)}.jsonl: {job.RowsIn[Name(i)]} in,";
            var committer = i == 0 ? first : second;
            Assert.True(committer.StandardOutput.Split('\n').Count(line => line.Contains(committedLine, StringComparison.Ordinal)) == 1, both);
            Assert.True(new[] { first, second }.Sum(r => r.StandardOutput.Split('\n').Count(line => line.Contains(committedLine, StringComparison.Ordinal))) == 1, both);
        }
        AssertMatchesReference(output);
        Assert.False(Directory.Exists(Path.Combine(output, ".riverbed", "failed")), "a worker that found a shard busy must not mark it failed");
    }

    [Fact]
    public async Task SIGTERM_stops_intake_lets_the_shard_in_flight_finish_within_the_grace_and_exits_130()
    {
        using var scratch = job.Scratch("faults-sigterm");
        var output = scratch.File("out");
        var release = scratch.File("release");
        // The signal lands at a known point, not when a line happens to be read: the second shard's writer holds its lock
        // (test hook) until the test has seen the worker take the SIGTERM, so the first shard is committed, the second is
        // the one in flight, and no later shard can have begun, however fast or slow the machine. The grace is far longer
        // than the 12 rows in flight take (it only guards against a hang); nothing else waits on a clock.
        var holding = new Dictionary<string, string?>
        {
            ["RIVERBED_FAULT_HOLD_SHARD"] = Name(1),
            ["RIVERBED_FAULT_HOLD_UNTIL"] = release,
        };
        using var process = Process.Start(Cli.StartInfo(Score(job.Inputs, output, "--batch-tokens", "16", "--grace", "300"), environment: holding))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = new List<string>();
        WaitForFile(release + ".held", process);
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }
        // The worker stops intake before it says so (GracefulStop), so after this line no new shard can start.
        while (process.StandardError.ReadLine() is { } line)
        {
            stderr.Add(line);
            if (line.Contains("SIGTERM received: taking no new shard", StringComparison.Ordinal))
            {
                File.WriteAllText(release, string.Empty);
                break;
            }
        }
        stderr.Add(await process.StandardError.ReadToEndAsync());
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)));
        var log = await stdout + "\n" + string.Join('\n', stderr);
        Assert.True(File.Exists(release), "the worker never said it took the SIGTERM:\n" + log);
        Assert.True(process.ExitCode == ExitCodes.Interrupted, log);
        Assert.Contains("stopped by SIGTERM: 2 shard(s) committed, 6 not started.", log, StringComparison.Ordinal);
        Assert.Contains("Run the same command again to finish", log, StringComparison.Ordinal);
        Assert.DoesNotContain("abandoning the shard in flight", log, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories));
        // The shard in flight finished; intake stopped, so no later shard was begun.
        for (var i = 0; i < Shards; i++)
        {
            Assert.True(File.Exists(Path.Combine(output, Name(i) + ".manifest.json")) == i < 2, $"shard {i}:\n{log}");
        }

        var rerun = Cli.Run(Score(job.Inputs, output));
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        Assert.Contains($"{Name(0)}.jsonl: skipped, already complete", rerun.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{Name(1)}.jsonl: skipped, already complete", rerun.StandardOutput, StringComparison.Ordinal);
        AssertMatchesReference(output);
    }

    /// <summary>Waits until a test hook's file exists (the wait only guards against a hang; the process must not end first).</summary>
    private static void WaitForFile(string path, Process process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!File.Exists(path))
        {
            if (process.HasExited)
            {
                Assert.Fail($"the worker ended (exit {process.ExitCode}) before it reached the test hook ({path})");
            }
            Assert.True(DateTime.UtcNow < deadline, $"the worker did not reach the test hook ({path}) within 3 minutes");
            Thread.Sleep(20);
        }
    }

    [Fact]
    public void Output_tampered_or_truncated_after_commit_is_reported_stale_and_only_it_is_redone()
    {
        using var scratch = job.Scratch("faults-tamper");
        var output = scratch.File("out");
        CopyFolder(job.Reference, output);
        var truncated = Path.Combine(output, Name(1) + ".jsonl");
        File.WriteAllBytes(truncated, File.ReadAllBytes(truncated)[..100]);
        var tampered = Path.Combine(output, Name(BrokenShard) + ".rejects.jsonl");
        File.AppendAllText(tampered, "{}\n");

        var status = Cli.Run("status", output);
        Assert.True(status.ExitCode == ExitCodes.Incomplete, status.ToString());
        var lines = status.StandardOutput.Split('\n');
        foreach (var shard in new[] { 1, BrokenShard })
        {
            Assert.Contains(lines, line => line.Contains("stale", StringComparison.Ordinal) && line.Contains($"{Name(shard)}.jsonl", StringComparison.Ordinal)
                && line.Contains("hash mismatch", StringComparison.Ordinal));
        }
        Assert.Contains("summary: 6 complete, 0 pending, 0 failed, 2 stale", status.StandardOutput, StringComparison.Ordinal);

        var rerun = Cli.Run(Score(job.Inputs, output));
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        Assert.Equal(Shards - 2, rerun.StandardOutput.Split('\n').Count(line => line.Contains("skipped, already complete", StringComparison.Ordinal)));
        Assert.Contains($"{Name(1)}.jsonl: {RowsPerShard} in,", rerun.StandardOutput, StringComparison.Ordinal);
        AssertMatchesReference(output);
    }

    [Fact]
    public async Task Three_ranks_in_three_processes_make_the_single_run_and_a_changed_world_size_needs_force_reassign()
    {
        using var scratch = job.Scratch("faults-ranks");
        var output = scratch.File("out");
        var ranks = Enumerable.Range(0, 3)
            .Select(rank => Task.Run(() => Cli.Run(Score(job.Inputs, output, "--rank", rank.ToString(CultureInfo.InvariantCulture), "--world-size", "3"))))
            .ToArray();
        var results = await Task.WhenAll(ranks);
        Assert.All(results, r => Assert.True(r.ExitCode == ExitCodes.Success, r.ToString()));
        // The shards differ in size, so they are dealt by size, largest first (ShardAssignment's rule, checked in its own tests).
        var dealt = ShardAssignment.BySize(InputResolver.Resolve([job.Inputs]), 3);
        foreach (var rank in Enumerable.Range(0, 3))
        {
            Assert.Contains(Invariant($"rank {rank} of 3 (--rank {rank}, --world-size 3): {dealt.ForRank(rank).Count} of 8 work unit(s)"), results[rank].StandardOutput, StringComparison.Ordinal);
        }
        Assert.False(File.Exists(Path.Combine(output, "stats.json")), "a rank of a larger job must not write the job's stats.json");
        foreach (var rank in Enumerable.Range(0, 3))
        {
            Assert.True(File.Exists(Path.Combine(output, "stats", $"rank-{rank}-of-3.json")));
            Assert.True(File.Exists(Path.Combine(output, "runs", $"rank-{rank}-of-3.json")));
        }
        AssertMatchesReference(output);
        using (var run = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "run.json"))))
        {
            Assert.Equal(3, run.RootElement.GetProperty("world_size").GetInt32());
            Assert.Equal(3, run.RootElement.GetProperty("ranks").GetArrayLength());
            Assert.Equal(Shards, run.RootElement.GetProperty("shards").GetProperty("committed").GetInt32());
        }

        // merge-stats made run.json and stats.json, so the tools that read a scored folder work on a multi-rank one.
        var report = Cli.Run("report", output);
        Assert.True(report.ExitCode == ExitCodes.Success, report.ToString());
        var filtered = Cli.Run("filter", output, "--output", scratch.File("filtered"), "--format", "jsonl");
        Assert.True(filtered.ExitCode == ExitCodes.Success, filtered.ToString());
        Assert.True(File.Exists(scratch.File("filtered", "stats.json")));

        var changed = Cli.Run(Score(job.Inputs, output, "--rank", "0", "--world-size", "2"));
        Assert.True(changed.ExitCode == ExitCodes.Failure, changed.ToString());
        Assert.Contains("assigned over 3 rank(s), this run has world size 2", changed.StandardError, StringComparison.Ordinal);
        Assert.Contains("--force-reassign", changed.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", changed.StandardError, StringComparison.Ordinal);

        var forced = Cli.Run(Score(job.Inputs, output, "--rank", "0", "--world-size", "2", "--force-reassign"));
        Assert.True(forced.ExitCode == ExitCodes.Success, forced.ToString());
        Assert.Equal(ShardAssignment.BySize(InputResolver.Resolve([job.Inputs]), 2).ForRank(0).Count,
            forced.StandardOutput.Split('\n').Count(line => line.Contains("skipped, already complete", StringComparison.Ordinal)));
        var status = Cli.Run("status", output);
        Assert.Contains("over 2 rank(s)", status.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void A_slurm_array_task_takes_its_rank_from_the_environment_logs_the_source_and_does_only_its_shards()
    {
        using var scratch = job.Scratch("faults-slurm-env");
        var output = scratch.File("out");
        var environment = new Dictionary<string, string?> { ["SLURM_ARRAY_TASK_ID"] = "1", ["SLURM_ARRAY_TASK_COUNT"] = "4" };
        var task = Cli.Run(Score(job.Inputs, output, "--limit", "2"), environment: environment);
        Assert.True(task.ExitCode == ExitCodes.Success, task.ToString());
        var mine = ShardAssignment.BySize(InputResolver.Resolve([job.Inputs]), 4).ForRank(1);
        Assert.Contains(Invariant($"rank 1 of 4 (SLURM_ARRAY_TASK_ID=1, SLURM_ARRAY_TASK_COUNT=4): {mine.Count} of 8 work unit(s)"), task.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(mine.Select(shard => shard.BaseName + ".manifest.json").Order(StringComparer.Ordinal),
            Directory.EnumerateFiles(output, "*.manifest.json").Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var disagreeing = Cli.Run(Score(job.Inputs, output, "--limit", "2", "--rank", "2"), environment: environment);
        Assert.True(disagreeing.ExitCode == ExitCodes.Failure, disagreeing.ToString());
        Assert.Contains("--rank 2 and SLURM_ARRAY_TASK_ID=1", disagreeing.StandardError, StringComparison.Ordinal);

        var merge = Cli.Run("merge-stats", output);
        Assert.True(merge.ExitCode == ExitCodes.Incomplete, merge.ToString());
        Assert.Contains(Invariant($"merged {mine.Count} complete shard(s) of 8"), merge.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(Invariant($"stats/rank-1-of-4.json: {mine.Count} shard(s), {2 * mine.Count} in, agrees with its shards"), merge.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shard_over_its_reject_budget_fails_with_exit_3_and_status_and_merge_stats_name_it()
    {
        using var scratch = job.Scratch("faults-budget");
        var output = scratch.File("out");
        var strict = Cli.Run(Score(job.Inputs, output, "--max-rejects", "1"));
        Assert.True(strict.ExitCode == ExitCodes.PartialFailure, strict.ToString());
        Assert.Contains($"1 shard(s) failed: {Path.Combine(job.Inputs, Name(BrokenShard))}.jsonl (2 rejects exceed the budget of 1 (--max-rejects)",
            strict.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(output, Name(BrokenShard) + ".manifest.json")));

        var status = Cli.Run("status", output);
        Assert.True(status.ExitCode == ExitCodes.Incomplete, status.ToString());
        Assert.Contains(status.StandardOutput.Split('\n'), line => line.Contains("failed", StringComparison.Ordinal)
            && line.Contains($"{Name(BrokenShard)}.jsonl", StringComparison.Ordinal) && line.Contains("2 rejects exceed the budget", StringComparison.Ordinal));

        var merge = Cli.Run("merge-stats", output);
        Assert.True(merge.ExitCode == ExitCodes.Incomplete, merge.ToString());
        Assert.Contains($"merged {Shards - 1} complete shard(s) of {Shards}", merge.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"failed    {Name(BrokenShard)}.jsonl", merge.StandardOutput, StringComparison.Ordinal);

        // A ratio the shard stays under (2 of 14 records) lets it commit: a budget is a limit, not a false alarm.
        var lenient = Cli.Run(Score(job.Inputs, output, "--max-reject-ratio", "0.2"));
        Assert.True(lenient.ExitCode == ExitCodes.Success, lenient.ToString());
        AssertMatchesReference(output);
        Assert.False(File.Exists(Path.Combine(output, ".riverbed", "failed", Name(BrokenShard) + ".json")));
    }

    /// <summary>
    /// The folder holds exactly the reference's bytes, every input row exactly once across outputs and rejects, no
    /// temporaries; status says complete; merge-stats (twice: it is idempotent) writes the reference's stats.json.
    /// </summary>
    private void AssertMatchesReference(string output)
    {
        // (.riverbed/ is left out: a kill in the instant a control file is replaced may leave its temporary there, out
        // of sight of every reader of outputs.)
        Assert.DoesNotContain(Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories), path => !path.Contains("/.riverbed/", StringComparison.Ordinal));
        Assert.Equal(job.ReferenceFiles.OrderBy(p => p.Key, StringComparer.Ordinal), Fingerprint(output).OrderBy(p => p.Key, StringComparer.Ordinal));
        for (var i = 0; i < Shards; i++)
        {
            var rows = new List<long>();
            rows.AddRange(File.ReadLines(Path.Combine(output, Name(i) + ".jsonl")).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("riverbed_row").GetInt64()));
            foreach (var side in new[] { ".rejects.jsonl", ".failures.jsonl" })
            {
                var path = Path.Combine(output, Name(i) + side);
                if (File.Exists(path))
                {
                    rows.AddRange(File.ReadLines(path).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("row").GetInt64()));
                }
            }
            rows.Sort();
            Assert.Equal(Enumerable.Range(0, job.RowsIn[Name(i)]).Select(row => (long)row), rows);
        }
        var status = Cli.Run("status", output);
        Assert.True(status.ExitCode == ExitCodes.Success, status.ToString());
        for (var pass = 0; pass < 2; pass++)
        {
            var merge = Cli.Run("merge-stats", output);
            Assert.True(merge.ExitCode == ExitCodes.Success, merge.ToString());
            Assert.Equal(job.ReferenceStats, File.ReadAllBytes(Path.Combine(output, "stats.json")));
        }
    }

    /// <summary>SHA-256 of each shard's data, rejects, failures and stats file (manifests hold times, so they differ by design).</summary>
    private static Dictionary<string, string> Fingerprint(string folder) =>
        Directory.EnumerateFiles(folder)
            .Where(path => Path.GetFileName(path).StartsWith("part-", StringComparison.Ordinal) && !path.EndsWith(".manifest.json", StringComparison.Ordinal))
            .ToDictionary(path => Path.GetFileName(path), ScoredOutput.Sha256, StringComparer.Ordinal);

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
