using System.Globalization;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Pipeline.Execution;

namespace Riverbed.Sharding;

/// <summary>What one rank of a scoring job is given besides its models and its input files.</summary>
public sealed record RankWorkerOptions
{
    /// <summary>
    /// The scoring run every unit is made with: the output folder, the configuration and its hash (required: the job
    /// record compares it and run.json records it), budgets, batching.
    /// </summary>
    public required ScoreRunOptions Scoring { get; init; }

    /// <summary>Which of the job's ranks this worker is.</summary>
    public WorkerRank Rank { get; init; } = WorkerRank.Single;

    /// <summary>A pinned list of unit names to deal out instead of every unit (see <see cref="ShardAssignment.Pinned"/>), or null.</summary>
    public string? ShardList { get; init; }

    /// <summary>Replace a job record this run disagrees with (world size, inputs, unit size, configuration) instead of refusing.</summary>
    public bool ForceReassign { get; init; }

    /// <summary>About how much input one work unit covers. Files are not split when the run reads only the first records of each (<see cref="ScoreRunOptions.Limit"/>).</summary>
    public long UnitSize { get; init; } = UnitPlanner.DefaultUnitSize;

    /// <summary>The command line run.json records (what to run again to reproduce the job).</summary>
    public IReadOnlyList<string> CommandLine { get; init; } = [];

    /// <summary>One process doing every unit of the job: it writes stats.json and run.json itself.</summary>
    public bool WholeJob => Rank.WorldSize == 1 && ShardList is null;
}

/// <summary>
/// This rank's share of the job, as the job record assigns it.
/// </summary>
/// <param name="Rank">The worker's rank.</param>
/// <param name="Units">This rank's units, in assignment order.</param>
/// <param name="JobUnits">Units dealt out by this run: the whole job, or the pinned list's.</param>
/// <param name="JobBytes">Their input bytes.</param>
/// <param name="Files">Input files the run was given.</param>
/// <param name="PlannedUnits">Units those files make (more than <paramref name="Files"/> when some were split).</param>
/// <param name="UnitSize">The unit size files were split by; null when each file is one unit.</param>
/// <param name="PinnedFile">The pinned list file (full path), or null.</param>
/// <param name="Record">The output folder's job record, as this rank checked (or created) it: where <paramref name="Units"/> come from.</param>
/// <param name="StatisticsPath">Where the rank's statistics go: stats.json for the whole job, else stats/rank-R-of-W.json.</param>
/// <param name="RunRecordPath">Where its run record goes: run.json for the whole job, else runs/rank-R-of-W.json.</param>
public sealed record RankPlan(WorkerRank Rank, IReadOnlyList<ShardInput> Units, int JobUnits, long JobBytes, int Files, int PlannedUnits,
    long? UnitSize, string? PinnedFile, JobRecord Record, string StatisticsPath, string RunRecordPath)
{
    /// <summary>Input bytes of this rank's units.</summary>
    public long Bytes => Units.Sum(unit => unit.WorkBytes);
}

/// <summary>What a rank did: every unit's outcome, the statistics it wrote and its run record.</summary>
/// <param name="Total">The merge of every complete unit of this rank (committed now or skipped as complete), as written to <see cref="RankPlan.StatisticsPath"/>.</param>
/// <param name="RunRecord">The rank's run record, as written to <see cref="RankPlan.RunRecordPath"/>.</param>
public sealed record RankWorkerResult(RankPlan Plan, ScoreRunResult Run, ScoreStatistics Total, RunRecord RunRecord)
{
    /// <summary>Units whose attempt failed (each has its failure marker), in assignment order.</summary>
    public IReadOnlyList<ShardRunResult> FailedUnits => Run.Shards.Where(s => s.Status == ShardRunStatus.Failed).ToList();

    public int CommittedUnits => Run.Shards.Count(s => s.Status == ShardRunStatus.Committed);

    /// <summary>Whether a stop left units not started (a rerun does them).</summary>
    public bool Stopped => Run.Stopped > 0;
}

/// <summary>
/// What a rank reports as it goes, for a display or a log; the worker itself prints nothing. Called from the worker's
/// own threads (unit outcomes from the pipeline's writer stage).
/// </summary>
public interface IRankWorkerObserver
{
    /// <summary>The job record is checked and this rank's units are known; scoring starts next.</summary>
    void Planned(RankPlan plan);

    /// <summary>A unit was committed, skipped as complete, failed or not started; its failure marker is already in step.</summary>
    void UnitFinished(ShardRunResult result);

    /// <summary>A unit that had committed outputs is done again, and why (e.g. other thresholds, a changed input).</summary>
    void UnitRedone(ShardInput unit, string reason);

    /// <summary>Something went wrong that does not fail the run (a failure marker that could not be written).</summary>
    void Problem(string message);
}

/// <summary>
/// One rank of a scoring job, as a library call: plan the work units, check (or create) the output folder's job record
/// and take this rank's units from it, then for each unit skip it if complete, else score and commit it, keeping its
/// failure marker in step with the outcome; finally write the rank's statistics (the merge of every complete unit it
/// owns) and its run record. The job record is the plan: the first rank to create it deals the units, and every later
/// rank and rerun takes its units from the recorded ranks, never dealing again, so ranks that start at different times
/// agree on who does what even if the inputs would now deal differently. The output folder it leaves needs nothing
/// else: <see cref="JobStatus"/> and <see cref="StatsMerger"/> read it as they read a command-line run's.
/// </summary>
public sealed class RankWorker
{
    private readonly ModelSet? _models;
    private readonly Func<IExampleProcessor>? _processor;
    private readonly RankWorkerOptions _options;
    private readonly IRankWorkerObserver? _observer;
    private ScoringPipeline? _pipeline;

    /// <param name="models">Opened models (the caller owns and disposes them).</param>
    public RankWorker(ModelSet models, RankWorkerOptions options, IRankWorkerObserver? observer = null)
        : this(options, observer)
    {
        _models = models ?? throw new ArgumentNullException(nameof(models));
    }

    /// <summary>A worker whose examples are scored by <paramref name="processor"/> (tests: no models).</summary>
    internal RankWorker(Func<IExampleProcessor> processor, RankWorkerOptions options, IRankWorkerObserver? observer = null)
        : this(options, observer)
    {
        _processor = processor ?? throw new ArgumentNullException(nameof(processor));
    }

    private RankWorker(RankWorkerOptions options, IRankWorkerObserver? observer)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Scoring.Configuration is null)
        {
            throw new ArgumentException("a rank needs its run's configuration (Scoring.Configuration): run.json records it", nameof(options));
        }
        options.Scoring.Validate();
        _options = options;
        _observer = observer;
    }

    /// <summary>The scoring's progress so far; null until the units are planned and scoring starts.</summary>
    public ProgressSnapshot? Progress => Volatile.Read(ref _pipeline)?.Progress;

    /// <summary>Runs with a graceful stop: <see cref="GracefulStop.Intake"/> starts no new unit, <see cref="GracefulStop.InFlight"/> abandons the one in flight.</summary>
    public Task<RankWorkerResult> RunAsync(IReadOnlyList<ShardInput> files, GracefulStop stop)
    {
        ArgumentNullException.ThrowIfNull(stop);
        return RunAsync(files, stop.Intake, stop.InFlight);
    }

    /// <summary>
    /// Does this rank's share of the job over <paramref name="files"/> (every input file of the job, each whole).
    /// Once <paramref name="stopIntake"/> is cancelled no new unit is started: the one in flight is committed, the rest
    /// are reported not started, and the statistics and run record are written as usual. Cancelling
    /// <paramref name="cancellationToken"/> abandons the unit in flight (nothing of it is committed) and throws
    /// <see cref="OperationCanceledException"/> without writing them. A job record that refuses the run throws
    /// <see cref="JobRecordException"/> before any unit is touched.
    /// </summary>
    public async Task<RankWorkerResult> RunAsync(IReadOnlyList<ShardInput> files, CancellationToken stopIntake, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var started = DateTime.UtcNow;
        var plan = Plan(files);
        _observer?.Planned(plan);
        // Each unit's committer records this rank in the failure marker it writes when the unit fails.
        var scoring = _options.Scoring with { Writer = _options.Rank };
        void Finished(ShardRunResult result) => _observer?.UnitFinished(result);
        void Redone(ShardInput unit, string reason) => _observer?.UnitRedone(unit, reason);
        var pipeline = _processor is { } processor
            ? new ScoringPipeline(scoring, processor) { ShardFinished = Finished, ShardRedone = Redone }
            : new ScoringPipeline(_models!, scoring) { ShardFinished = Finished, ShardRedone = Redone };
        Volatile.Write(ref _pipeline, pipeline);
        var run = await pipeline.RunAsync(plan.Units, stopIntake, cancellationToken).ConfigureAwait(false);

        // Every complete unit as its {base}.stats.json holds it, so a merge of the ranks later finds exactly these totals.
        var total = new ScoreStatistics();
        foreach (var unit in run.Shards.Where(s => s.Statistics is not null))
        {
            total.Merge(unit.Statistics!.Snapshot());
        }
        DeleteLeftovers(plan.StatisticsPath);
        DeleteLeftovers(plan.RunRecordPath);
        RunRecord.WriteAtomically(plan.StatisticsPath, total.ToJson());
        var committed = run.Committed;
        var record = new RunRecord
        {
            StartedUtc = started,
            FinishedUtc = DateTime.UtcNow,
            CommandLine = _options.CommandLine,
            Inputs = plan.Units.Select(unit => unit.Path).Distinct().ToList(),
            Output = Path.GetFullPath(scoring.OutputFolder),
            Configuration = scoring.Configuration!,
            Examples = committed.RowsOut + committed.RowsFailed,
            WallSeconds = run.Elapsed.TotalSeconds,
            Batching = run.Batching,
            ShardsCommitted = run.Shards.Count(s => s.Status == ShardRunStatus.Committed),
            ShardsSkipped = run.Shards.Count(s => s.Status == ShardRunStatus.Skipped),
            ShardsFailed = run.Failed,
            Rank = _options.Rank.Rank,
            WorldSize = _options.Rank.WorldSize,
        };
        RunRecord.WriteAtomically(plan.RunRecordPath, record.ToJson());
        return new RankWorkerResult(plan, run, total, record);
    }

    /// <summary>
    /// Plans the units, checks the job record (creating it when this is the first rank), and takes this rank's units:
    /// from the record's ranks for the whole job, from the list's dealing for a pinned list.
    /// </summary>
    private RankPlan Plan(IReadOnlyList<ShardInput> files)
    {
        var scoring = _options.Scoring;
        var rank = _options.Rank;
        var output = Path.GetFullPath(scoring.OutputFolder);
        // A run that reads only the first records of each file does not split files.
        long? unitSize = scoring.Limit is null ? _options.UnitSize : null;
        var units = unitSize is { } size ? UnitPlanner.Plan(files, size, scoring.Reader) : files;
        var assignment = _options.ShardList is { } listFile
            ? ShardAssignment.Pinned(units, listFile, rank.WorldSize, unitSize)
            : ShardAssignment.BySize(units, rank.WorldSize, unitSize);
        var record = JobRecord.Establish(output, assignment, units, scoring.ConfigHash, _options.ForceReassign, scoring.Configuration);
        var mine = assignment.PinnedFile is null ? Recorded(output, record, units, rank.Rank) : assignment.ForRank(rank.Rank);
        var name = RecordName(assignment);
        return new RankPlan(rank, mine, assignment.Shards.Count, assignment.Shards.Sum(unit => unit.WorkBytes), files.Count, units.Count, unitSize,
            assignment.PinnedFile, record,
            _options.WholeJob ? Path.Combine(output, "stats.json") : Path.Combine(output, "stats", name),
            _options.WholeJob ? Path.Combine(output, "run.json") : Path.Combine(output, "runs", name));
    }

    /// <summary>The units the job record gives <paramref name="rank"/>, in the record's order, as planned from the inputs now.</summary>
    private static List<ShardInput> Recorded(string output, JobRecord record, IReadOnlyList<ShardInput> units, int rank)
    {
        var byName = units.ToDictionary(unit => unit.Name, StringComparer.Ordinal);
        return record.Shards.Where(shard => shard.Rank == rank)
            .Select(shard => byName.TryGetValue(shard.Name, out var unit)
                ? unit
                : throw new JobRecordException($"{JobRecord.PathIn(output)} assigns the unit {shard.Name}, which the inputs no longer make"))
            .ToList();
    }

    /// <summary>The file name of this rank's stats/ and runs/ records, e.g. "rank-2-of-4.json" (a pinned list adds its hash).</summary>
    private string RecordName(ShardAssignment assignment)
    {
        var rank = string.Create(CultureInfo.InvariantCulture, $"rank-{_options.Rank.Rank}-of-{_options.Rank.WorldSize}.json");
        return assignment.PinnedFile is null ? rank : "list-" + assignment.ListSha256[..12] + "-" + rank;
    }

    /// <summary>
    /// Removes what earlier runs killed while writing <paramref name="path"/> left (<c>.{name}.{pid}-{random}.tmp</c>).
    /// Two workers given the same rank by mistake both write this file, so a temporary whose writer is still alive is
    /// left alone: deleting it would fail that worker's rename.
    /// </summary>
    private static void DeleteLeftovers(string path)
    {
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder))
        {
            return;
        }
        var prefix = "." + Path.GetFileName(path) + ".";
        foreach (var leftover in Directory.EnumerateFiles(folder, prefix + "*.tmp"))
        {
            var name = Path.GetFileName(leftover);
            var pid = name[prefix.Length..].Split('-')[0];
            if (int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var writer) && WriterIsAlive(writer))
            {
                continue;
            }
            File.Delete(leftover);
        }
    }

    /// <summary>Whether a process with that id runs on this machine (Linux: /proc has a folder for it).</summary>
    private static bool WriterIsAlive(int pid) => pid == Environment.ProcessId || Directory.Exists($"/proc/{pid}");
}
