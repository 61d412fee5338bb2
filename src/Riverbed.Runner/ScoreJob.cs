using System.Globalization;
using Riverbed.Inference;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Pipeline.Execution;
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
/// One <c>riverbed score</c> worker, shared by <c>score</c> and <c>demo</c>: maps the settings to the library's options,
/// opens the models, fixes the configuration and its hash, and runs a <see cref="RankWorker"/> (which checks the job
/// record, scores this rank's units, keeps their failure markers and writes the rank's statistics and run record) while
/// showing its progress; then prints the summary.
/// </summary>
internal static class ScoreJob
{
    public static async Task<ScoreJobResult> RunAsync(ScoreSettings settings, IReadOnlyList<ShardInput> inputs, string output,
        RunDisplay display, GracefulStop stop, WorkerSettings? worker = null)
    {
        output = Path.GetFullPath(output);
        worker ??= WorkerSettings.Single;
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
        var options = new RankWorkerOptions
        {
            Scoring = new ScoreRunOptions
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
            },
            Rank = worker.Rank,
            ShardList = worker.ShardList,
            ForceReassign = worker.ForceReassign,
            UnitSize = worker.UnitSize,
            CommandLine = Environment.GetCommandLineArgs().Skip(1).ToList(),
        };
        var rank = new RankWorker(models, options, new Observer(display, settings, output, models.Threads, configuration.Hash));
        RankWorkerResult result;
        try
        {
            result = await display.TrackAsync(() => rank.RunAsync(inputs, stop), () => rank.Progress, settings.LogEvery, "scoring", stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.InFlight.IsCancellationRequested)
        {
            display.Line($"stopped by {stop.Reason}: committed shards are complete; the shard in progress was abandoned (not committed, its temporaries deleted). Run the same command again to finish.");
            throw;
        }
        Print(display, result, options.WholeJob, output);
        return new ScoreJobResult(result.Run, result.Total, configuration, stop.Requested ? stop.Reason : null);
    }

    private static void Print(RunDisplay display, RankWorkerResult result, bool wholeJob, string output)
    {
        var run = result.Run;
        display.Summary(run.Shards, result.Total);
        display.Reasons(result.Total);
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
        display.Line(wholeJob
            ? $"outputs: {output} (stats.json, run.json, one manifest per shard)"
            : $"outputs: {output} ({Path.GetRelativePath(output, result.Plan.StatisticsPath)}, {Path.GetRelativePath(output, result.Plan.RunRecordPath)}, one manifest per shard); " +
              $"`riverbed merge-stats {output}` writes stats.json and run.json once every rank has finished");
    }

    /// <summary>What the worker reports, as the run's display shows it.</summary>
    private sealed class Observer(RunDisplay display, ScoreSettings settings, string output, string threads, string configHash) : IRankWorkerObserver
    {
        public void Planned(RankPlan plan)
        {
            display.Line(string.Create(CultureInfo.InvariantCulture,
                $"{plan.Rank}: {plan.Units.Count} of {plan.JobUnits} work unit(s), {plan.Bytes:N0} of {plan.JobBytes:N0} input bytes" +
                $"{(plan.PlannedUnits > plan.Files ? $" ({plan.Files} file(s) split by --unit-size {UnitPlanner.FormatSize(plan.UnitSize!.Value)})" : string.Empty)}" +
                $"{(plan.PinnedFile is { } pinned ? $" of the list {pinned}" : string.Empty)}"));
            display.Line(string.Create(CultureInfo.InvariantCulture,
                $"riverbed score: {plan.Units.Count} shard(s) -> {output} ({(settings.Format == OutputFormat.Parquet ? "parquet" : "jsonl")}, config {configHash[..12]}); " +
                $"models {settings.ModelsFolder} on {settings.Device}, {settings.Sessions} session(s)/role ({threads}), batch {settings.BatchTokens:N0} tokens; policy {settings.Policy}"));
        }

        public void UnitFinished(ShardRunResult result) => display.Shard(result);

        public void UnitRedone(ShardInput unit, string reason) => display.Line($"{unit.DisplayPath}: redone ({reason})");

        public void Problem(string message) => Console.Error.WriteLine($"riverbed: {message}");
    }

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
