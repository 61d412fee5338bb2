using System.Globalization;
using Riverbed.Inference;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Pipeline.Models;
using Riverbed.Runner.Commands;
using Riverbed.Sharding;

namespace Riverbed.Runner;

/// <summary>What a scoring job produced.</summary>
/// <param name="StoppedBy">The signal that stopped intake ("SIGTERM", …), or null when the run was not stopped.</param>
internal sealed record ScoreJobResult(ScoreRunResult Run, ScoreStatistics Total, RunConfiguration Configuration, string? StoppedBy)
{
    /// <summary>
    /// The exit code: interrupted when a stop cut the run short, partial when a shard failed (the message names them),
    /// success otherwise.
    /// </summary>
    public int ExitCode(out string? message)
    {
        var failed = Run.Shards.Where(s => s.Status == ShardRunStatus.Failed).Select(s => $"{s.Input.DisplayPath} ({s.Message})").ToList();
        var failures = failed.Count > 0 ? $"{failed.Count} shard(s) failed: {string.Join("; ", failed)}. " : string.Empty;
        if (StoppedBy is not null && Run.Stopped > 0)
        {
            message = string.Create(CultureInfo.InvariantCulture,
                $"stopped by {StoppedBy}: {Run.Shards.Count(s => s.Status == ShardRunStatus.Committed)} shard(s) committed, {Run.Stopped} not started. {failures}Run the same command again to finish (complete shards are skipped)");
            return ExitCodes.Interrupted;
        }
        if (failed.Count > 0)
        {
            var diskFull = Run.Shards.Any(s => s.Status == ShardRunStatus.Failed && s.Message.Contains(WriteErrors.DiskFullPhrase, StringComparison.Ordinal));
            message = diskFull
                ? $"{WriteErrors.DiskFullPhrase}: {failures}Free space and run the same command again (complete shards are skipped)"
                : failures + "Fix them and run again (complete shards are skipped)";
            return ExitCodes.PartialFailure;
        }
        message = null;
        return ExitCodes.Success;
    }
}

/// <summary>
/// One <c>riverbed score</c> worker, shared by <c>score</c> and <c>demo</c>: opens the models, fixes the configuration
/// and its hash, checks the output folder's job record (world size, inputs, configuration), runs the pipeline over this
/// rank's shards with progress (each shard's committer keeps its failure marker in step with its outcome), then writes
/// the statistics (the merge of every complete shard the rank owns) and the run record, and prints the summary. A single process doing
/// the whole job writes them as stats.json and run.json; a rank of a larger job writes stats/rank-R-of-W.json and
/// runs/rank-R-of-W.json, and <c>riverbed merge-stats</c> makes stats.json and run.json from every rank's work.
/// </summary>
internal static class ScoreJob
{
    public static async Task<ScoreJobResult> RunAsync(ScoreSettings settings, IReadOnlyList<ShardInput> inputs, string output,
        RunDisplay display, GracefulStop stop, WorkerSettings? worker = null)
    {
        var started = DateTime.UtcNow;
        output = Path.GetFullPath(output);
        worker ??= WorkerSettings.Single;
        // --limit takes the first records of each file, so files are not split then.
        long? unitSize = settings.Limit is null ? worker.UnitSize : null;
        var files = inputs;
        var units = unitSize is { } size ? UnitPlanner.Plan(files, size, settings.Reader) : files;
        var assignment = worker.ShardList is { } listFile
            ? ShardAssignment.Pinned(units, listFile, worker.Rank.WorldSize, unitSize)
            : ShardAssignment.BySize(units, worker.Rank.WorldSize, unitSize);
        var allInputs = units;
        inputs = assignment.ForRank(worker.Rank.Rank);
        display.Line(string.Create(CultureInfo.InvariantCulture,
            $"{worker.Rank}: {inputs.Count} of {assignment.Shards.Count} work unit(s), {inputs.Sum(input => input.WorkBytes):N0} of {assignment.Shards.Sum(input => input.WorkBytes):N0} input bytes" +
            $"{(units.Count > files.Count ? $" ({files.Count} file(s) split by --unit-size {UnitPlanner.FormatSize(unitSize!.Value)})" : string.Empty)}" +
            $"{(assignment.PinnedFile is { } pinned ? $" of the list {pinned}" : string.Empty)}"));
        using var models = Open(settings);
        foreach (var note in models.Notes)
        {
            display.Note(note);
        }
        var configuration = new RunConfiguration
        {
            Reader = settings.Reader,
            Format = settings.Format,
            Split = settings.Split,
            Limit = settings.Limit,
            Scoring = settings.Scoring,
            Policy = settings.Policy,
            ModelsFolder = settings.ModelsFolder,
            Models = ModelRoleDigests.Of(models),
            Execution = new ExecutionSettings(settings.Device, settings.Sessions, settings.Threads, settings.BatchTokens, settings.MaxExamplesInFlight),
        };
        var options = new ScoreRunOptions
        {
            OutputFolder = output,
            ConfigHash = configuration.Hash,
            Configuration = configuration,
            Format = settings.Format,
            Split = settings.Split,
            Reader = settings.Reader,
            Scoring = settings.Scoring,
            Policy = settings.Policy,
            Batching = settings.Batching,
            Limit = settings.Limit,
            MaxExamplesInFlight = settings.MaxExamplesInFlight,
            MaxFailures = settings.MaxFailures,
            Rejects = worker.Rejects,
            Writer = worker.Rank,
        };
        JobRecord.Establish(output, assignment, allInputs, configuration.Hash, worker.ForceReassign, configuration);
        var pipeline = new ScoringPipeline(models, options)
        {
            ShardFinished = display.Shard,
            ShardRedone = (input, why) => display.Line($"{input.DisplayPath}: redone ({why})"),
        };
        display.Line(string.Create(CultureInfo.InvariantCulture,
            $"riverbed score: {inputs.Count} shard(s) -> {output} ({(settings.Format == OutputFormat.Parquet ? "parquet" : "jsonl")}, config {configuration.Hash[..12]}); " +
            $"models {settings.ModelsFolder} on {settings.Device}, {settings.Sessions} session(s)/role ({models.Threads}), batch {settings.BatchTokens:N0} tokens; policy {settings.Policy}"));
        ScoreRunResult run;
        try
        {
            run = await display.TrackAsync(() => pipeline.RunAsync(inputs, stop.Intake, stop.InFlight), () => pipeline.Progress, settings.LogEvery, "scoring", stop)
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.InFlight.IsCancellationRequested)
        {
            display.Line($"stopped by {stop.Reason}: committed shards are complete; the shard in progress was abandoned (not committed, its temporaries deleted). Run the same command again to finish.");
            throw;
        }

        // Every complete shard as its {base}.stats.json holds it, so merge-stats later finds exactly these totals.
        var total = new ScoreStatistics();
        foreach (var shard in run.Shards.Where(s => s.Statistics is not null))
        {
            total.Merge(shard.Statistics!.Snapshot());
        }
        var recordName = worker.RecordName(assignment);
        var statsPath = worker.WholeJob ? Path.Combine(output, "stats.json") : Path.Combine(output, "stats", recordName);
        var runPath = worker.WholeJob ? Path.Combine(output, "run.json") : Path.Combine(output, "runs", recordName);
        DeleteLeftovers(statsPath);
        DeleteLeftovers(runPath);
        RunRecord.WriteAtomically(statsPath, total.ToJson());
        var record = new RunRecord
        {
            StartedUtc = started,
            FinishedUtc = DateTime.UtcNow,
            CommandLine = Environment.GetCommandLineArgs().Skip(1).ToList(),
            Inputs = inputs.Select(input => input.Path).Distinct().ToList(),
            Output = output,
            Configuration = configuration,
            Examples = run.Committed.RowsOut + run.Committed.RowsFailed,
            WallSeconds = run.Elapsed.TotalSeconds,
            Batching = run.Batching,
            ShardsCommitted = run.Shards.Count(s => s.Status == ShardRunStatus.Committed),
            ShardsSkipped = run.Shards.Count(s => s.Status == ShardRunStatus.Skipped),
            ShardsFailed = run.Failed,
            Rank = worker.Rank.Rank,
            WorldSize = worker.Rank.WorldSize,
        };
        RunRecord.WriteAtomically(runPath, record.ToJson());

        display.Summary(run.Shards, total);
        display.Reasons(total);
        var committed = run.Committed;
        var seconds = Math.Max(run.Elapsed.TotalSeconds, 1e-9);
        var examples = committed.RowsOut + committed.RowsFailed;
        display.Line(string.Create(CultureInfo.InvariantCulture,
            $"throughput: {examples:N0} examples in {run.Elapsed.TotalSeconds:0.0} s ({examples / seconds:0.0}/s), " +
            $"{run.Batching.Sum(b => b.RealTokens) / seconds:N0} real tokens/s, peak RSS {PeakRss.Mebibytes:N0} MiB"));
        foreach (var role in run.Batching.Where(b => b.Batches > 0))
        {
            var faults = role.FailedRuns == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture,
                $"; {role.FailedRuns:N0} failed runs ({role.AllocationFailures:N0} out of memory): {role.Splits:N0} splits, " +
                $"{role.Retries:N0} retries alone, {role.Quarantined:N0} requests failed alone");
            display.Line(string.Create(CultureInfo.InvariantCulture,
                $"  {role.Role}: {role.Batches:N0} batches, fill {role.Fill:P0}, padding {role.PaddingFraction:P1}, " +
                $"inside Run() {role.RunSeconds / role.Sessions / seconds:P0} of wall time per session{faults}") +
                (role.CacheLookups > 0
                    ? string.Create(CultureInfo.InvariantCulture,
                        $"; identical requests answered from the cache {role.CacheHitRate:P1} ({role.CacheHits:N0} of {role.CacheLookups:N0})")
                    : string.Empty));
        }
        display.Line(worker.WholeJob
            ? $"outputs: {output} (stats.json, run.json, one manifest per shard)"
            : $"outputs: {output} ({Path.GetRelativePath(output, statsPath)}, {Path.GetRelativePath(output, runPath)}, one manifest per shard); " +
              $"`riverbed merge-stats {output}` writes stats.json and run.json once every rank has finished");
        return new ScoreJobResult(run, total, configuration, stop.Requested ? stop.Reason : null);
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

    public static ModelSet Open(ScoreSettings settings)
    {
        var budget = settings.Threads == ExecutionSettings.BudgetThreads;
        return ModelSet.Open(settings.ModelsFolder, new ModelSetOptions
        {
            SessionsPerRole = settings.Sessions,
            Session = new SessionOptions { IntraOpThreads = budget ? 0 : settings.Threads, InterOpThreads = 1, ExecutionProvider = settings.Provider },
            ThreadBudgetCores = budget ? ThreadBudget.AvailableCores : null,
            MaskedPositionHead = settings.MaskedHead,
        });
    }
}
