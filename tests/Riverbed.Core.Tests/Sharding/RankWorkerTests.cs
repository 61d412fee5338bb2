using System.Text.Json;
using Riverbed.Core.Tests.Pipeline;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Sharding;

namespace Riverbed.Core.Tests.Sharding;

/// <summary>
/// The rank worker as a library call, with a fake score stage: the output folder it leaves (markers, statistics, run
/// record, job record) is complete without any command line around it, and ranks take their units from the job record.
/// </summary>
public sealed class RankWorkerTests
{
    [Fact]
    public async Task A_single_worker_leaves_markers_statistics_run_record_and_job_record_without_a_caller_writing_any()
    {
        using var scratch = new ScratchFolder("rank-worker");
        var files = new[]
        {
            ScoringPipelineTests.WriteShard(scratch, "good.jsonl", 40),
            ScoringPipelineTests.WriteShard(scratch, "bad.jsonl", 40, badLines: [3]),
        };
        var observer = new RecordingObserver();

        var result = await Worker(scratch, WorkerRank.Single, observer, maxRejects: 0).RunAsync(files, CancellationToken.None, CancellationToken.None);

        var output = scratch.File("out");
        Assert.Equal(["bad.jsonl", "good.jsonl"], result.Plan.Units.Select(unit => unit.Name));
        Assert.Equal(["bad.jsonl"], result.FailedUnits.Select(unit => unit.Input.Name));
        Assert.Equal(["bad.jsonl", "good.jsonl"], observer.Finished.Order(StringComparer.Ordinal));
        var marker = FailureMarker.TryRead(output, "bad");
        Assert.NotNull(marker);
        Assert.Contains("reject", marker.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Null(FailureMarker.TryRead(output, "good"));

        var status = JobStatus.Scan(output);
        Assert.Equal([ShardProgress.Failed, ShardProgress.Complete], status.Shards.Select(shard => shard.Progress));
        var stats = ScoreStatistics.Load(Path.Combine(output, "stats.json"));
        Assert.Equal((1L, 40L), (stats.Shards, stats.RowsIn));
        Assert.Equal(result.Total.ToJson(), File.ReadAllBytes(Path.Combine(output, "stats.json")));
        using var run = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "run.json")));
        Assert.Equal(result.Plan.Record.ConfigHash, run.RootElement.GetProperty("config_hash").GetString());
        Assert.Equal(1, run.RootElement.GetProperty("shards").GetProperty("failed").GetInt32());
        Assert.Equal(1, run.RootElement.GetProperty("shards").GetProperty("committed").GetInt32());
        Assert.False(Directory.Exists(Path.Combine(output, "stats")));
    }

    [Fact]
    public async Task A_rerun_that_commits_a_failed_unit_clears_its_marker()
    {
        using var scratch = new ScratchFolder("rank-worker");
        var bad = ScoringPipelineTests.WriteShard(scratch, "bad.jsonl", 40, badLines: [3]);
        await Worker(scratch, WorkerRank.Single, maxRejects: 0).RunAsync([bad], CancellationToken.None, CancellationToken.None);
        Assert.NotNull(FailureMarker.TryRead(scratch.File("out"), "bad"));

        var rerun = await Worker(scratch, WorkerRank.Single).RunAsync([bad], CancellationToken.None, CancellationToken.None);

        Assert.Equal(ShardRunStatus.Committed, Assert.Single(rerun.Run.Shards).Status);
        Assert.Null(FailureMarker.TryRead(scratch.File("out"), "bad"));
        Assert.True(JobStatus.Scan(scratch.File("out")).AllComplete);
    }

    [Fact]
    public async Task A_later_rank_does_the_units_the_record_gave_it_even_where_the_inputs_would_now_deal_differently()
    {
        using var scratch = new ScratchFolder("rank-worker");
        // By size over two ranks: a (largest) to rank 0, b and c to rank 1.
        ScoringPipelineTests.WriteShard(scratch, "a.jsonl", 30);
        ScoringPipelineTests.WriteShard(scratch, "b.jsonl", 20);
        ScoringPipelineTests.WriteShard(scratch, "c.jsonl", 10);
        var first = await Worker(scratch, Rank(0, 2)).RunAsync(Files(scratch), CancellationToken.None, CancellationToken.None);
        Assert.Equal(["a.jsonl"], first.Plan.Units.Select(unit => unit.Name));
        var manifestOfA = File.ReadAllBytes(scratch.File("out", "a.manifest.json"));

        // c grows before rank 1 starts (a queue that ran rank 1 hours later): dealt again, c would go to rank 0 and a to rank 1.
        ScoringPipelineTests.WriteShard(scratch, "c.jsonl", 40);
        Assert.Equal(["a.jsonl", "b.jsonl"], ShardAssignment.BySize(Files(scratch), 2).ForRank(1).Select(unit => unit.Name));

        var second = await Worker(scratch, Rank(1, 2)).RunAsync(Files(scratch), CancellationToken.None, CancellationToken.None);

        Assert.Equal(["b.jsonl", "c.jsonl"], second.Plan.Units.Select(unit => unit.Name));
        Assert.Equal([0, 1, 1], JobRecord.TryLoad(scratch.File("out"))!.Shards.Select(shard => shard.Rank!.Value));
        Assert.Equal(manifestOfA, File.ReadAllBytes(scratch.File("out", "a.manifest.json")));
        Assert.True(JobStatus.Scan(scratch.File("out")).AllComplete);
    }

    [Fact]
    public async Task Another_world_size_is_refused_before_any_unit_is_touched_unless_forced()
    {
        using var scratch = new ScratchFolder("rank-worker");
        ScoringPipelineTests.WriteShard(scratch, "a.jsonl", 10);
        ScoringPipelineTests.WriteShard(scratch, "b.jsonl", 10);
        await Worker(scratch, Rank(0, 2)).RunAsync(Files(scratch), CancellationToken.None, CancellationToken.None);

        var error = await Assert.ThrowsAsync<JobRecordException>(() =>
            Worker(scratch, Rank(0, 3)).RunAsync(Files(scratch), CancellationToken.None, CancellationToken.None));

        Assert.Contains("assigned over 2 rank(s), this run has world size 3", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(scratch.File("out", "stats", "rank-0-of-3.json")));
        var forced = await Worker(scratch, Rank(0, 3), force: true).RunAsync(Files(scratch), CancellationToken.None, CancellationToken.None);
        Assert.Equal(3, forced.Plan.Record.WorldSize);
    }

    [Fact]
    public async Task Ranks_write_their_own_records_and_the_merger_makes_the_jobs_stats_and_run_record_from_them()
    {
        using var scratch = new ScratchFolder("rank-worker");
        for (var i = 0; i < 5; i++)
        {
            ScoringPipelineTests.WriteShard(scratch, $"part-{i}.jsonl", 10 + i);
        }
        var ranks = new List<RankWorkerResult>();
        for (var rank = 0; rank < 2; rank++)
        {
            ranks.Add(await Worker(scratch, Rank(rank, 2)).RunAsync(Files(scratch), CancellationToken.None, CancellationToken.None));
        }
        var output = scratch.File("out");
        Assert.Equal(Path.Combine(output, "stats", "rank-1-of-2.json"), ranks[1].Plan.StatisticsPath);
        Assert.Equal(Path.Combine(output, "runs", "rank-1-of-2.json"), ranks[1].Plan.RunRecordPath);
        Assert.False(File.Exists(Path.Combine(output, "stats.json")));

        var merged = StatsMerger.Merge(output);

        Assert.True(merged.Status.AllComplete);
        Assert.Equal(2, merged.RunRecords);
        Assert.All(merged.RankChecks, line => Assert.EndsWith("agrees with its shards", line, StringComparison.Ordinal));
        var expected = new ScoreStatistics();
        expected.Merge(ranks[0].Total);
        expected.Merge(ranks[1].Total);
        Assert.Equal(expected.ToJson(), File.ReadAllBytes(Path.Combine(output, "stats.json")));
        using var run = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "run.json")));
        Assert.Equal(2, run.RootElement.GetProperty("world_size").GetInt32());
        Assert.Equal(5, run.RootElement.GetProperty("shards").GetProperty("complete").GetInt32());
        var again = File.ReadAllBytes(Path.Combine(output, "stats.json"));
        StatsMerger.Merge(output);
        Assert.Equal(again, File.ReadAllBytes(Path.Combine(output, "stats.json")));
    }

    private static WorkerRank Rank(int rank, int world) => new(rank, world, RankSource.CommandLine, "test");

    /// <summary>The job's input files as they are now (the data files beside the output folder).</summary>
    private static List<ShardInput> Files(ScratchFolder scratch) =>
        Directory.EnumerateFiles(scratch.Path, "*.jsonl").Order(StringComparer.Ordinal).Select(path => ShardInput.FromFile(path)).ToList();

    private static RankWorker Worker(ScratchFolder scratch, WorkerRank rank, IRankWorkerObserver? observer = null, long? maxRejects = null, bool force = false)
    {
        var configuration = new RunConfiguration
        {
            Reader = new ReaderOptions(),
            Format = OutputFormat.JsonLines,
            ModelsFolder = "fake-models",
            Execution = new ExecutionSettings("cpu", 1, 1, 1024, 16),
        };
        var options = new RankWorkerOptions
        {
            Scoring = new ScoreRunOptions
            {
                OutputFolder = scratch.File("out"),
                ConfigHash = configuration.Hash,
                Configuration = configuration,
                Format = OutputFormat.JsonLines,
                MaxExamplesInFlight = 16,
                Rejects = maxRejects is { } most ? Riverbed.IO.RejectBudget.OfCount(most) : Riverbed.IO.RejectBudget.Unlimited,
            },
            Rank = rank,
            ForceReassign = force,
        };
        return new RankWorker(() => new ScoringPipelineTests.FakeProcessor(), options, observer);
    }

    private sealed class RecordingObserver : IRankWorkerObserver
    {
        public List<string> Finished { get; } = [];

        public RankPlan? Plan { get; private set; }

        public void Planned(RankPlan plan) => Plan = plan;

        public void UnitFinished(ShardRunResult result)
        {
            lock (Finished)
            {
                Finished.Add(result.Input.Name);
            }
        }

        public void UnitRedone(ShardInput unit, string reason)
        {
        }

        public void Problem(string message) => throw new InvalidOperationException(message);
    }
}
