using System.Globalization;
using Riverbed.Inference;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Pipeline.Models;
using Riverbed.Runner.Commands;

namespace Riverbed.Runner;

/// <summary>What a scoring job produced.</summary>
internal sealed record ScoreJobResult(ScoreRunResult Run, ScoreStatistics Total, RunConfiguration Configuration);

/// <summary>
/// One <c>riverbed score</c> job, shared by <c>score</c> and <c>demo</c>: opens the models, fixes the configuration and
/// its hash, runs the pipeline with progress, then writes stats.json (the merge of every complete shard of the run's
/// inputs) and run.json, and prints the summary.
/// </summary>
internal static class ScoreJob
{
    public static async Task<ScoreJobResult> RunAsync(ScoreSettings settings, IReadOnlyList<ShardInput> inputs, string output,
        RunDisplay display, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        output = Path.GetFullPath(output);
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
            Format = settings.Format,
            Split = settings.Split,
            Reader = settings.Reader,
            Scoring = settings.Scoring,
            Policy = settings.Policy,
            Batching = settings.Batching,
            Limit = settings.Limit,
            MaxExamplesInFlight = settings.MaxExamplesInFlight,
            MaxFailures = settings.MaxFailures,
        };
        var pipeline = new ScoringPipeline(models, options) { ShardFinished = display.Shard };
        display.Line(string.Create(CultureInfo.InvariantCulture,
            $"riverbed score: {inputs.Count} shard(s) -> {output} ({(settings.Format == OutputFormat.Parquet ? "parquet" : "jsonl")}, config {configuration.Hash[..12]}); " +
            $"models {settings.ModelsFolder} on {settings.Device}, {settings.Sessions} session(s)/role, batch {settings.BatchTokens:N0} tokens; policy {settings.Policy}"));
        ScoreRunResult run;
        try
        {
            run = await display.TrackAsync(() => pipeline.RunAsync(inputs, cancellationToken), () => pipeline.Progress, settings.LogEvery, "scoring")
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            display.Line("stopped: committed shards are complete; the shard in progress was not committed. Run the same command again to finish.");
            throw;
        }

        var total = new ScoreStatistics();
        foreach (var shard in run.Shards.Where(s => s.Statistics is not null).OrderBy(s => s.Input.BaseName, StringComparer.Ordinal))
        {
            total.Merge(shard.Statistics!);
        }
        RunRecord.WriteAtomically(Path.Combine(output, "stats.json"), total.ToJson());
        var record = new RunRecord
        {
            StartedUtc = started,
            FinishedUtc = DateTime.UtcNow,
            CommandLine = Environment.GetCommandLineArgs().Skip(1).ToList(),
            Inputs = inputs.Select(input => input.Path).ToList(),
            Output = output,
            Configuration = configuration,
            Examples = run.Committed.RowsOut + run.Committed.RowsFailed,
            WallSeconds = run.Elapsed.TotalSeconds,
            Batching = run.Batching,
            ShardsCommitted = run.Shards.Count(s => s.Status == ShardRunStatus.Committed),
            ShardsSkipped = run.Shards.Count(s => s.Status == ShardRunStatus.Skipped),
            ShardsFailed = run.Failed,
        };
        RunRecord.WriteAtomically(Path.Combine(output, "run.json"), record.ToJson());

        display.Summary(run.Shards, total);
        display.Reasons(total);
        var committed = run.Committed;
        var seconds = Math.Max(run.Elapsed.TotalSeconds, 1e-9);
        var examples = committed.RowsOut + committed.RowsFailed;
        display.Line(string.Create(CultureInfo.InvariantCulture,
            $"throughput: {examples:N0} examples in {run.Elapsed.TotalSeconds:0.0} s ({examples / seconds:0.0}/s), " +
            $"{run.Batching.Sum(b => b.RealTokens) / seconds:N0} real tokens/s"));
        foreach (var role in run.Batching.Where(b => b.Batches > 0))
        {
            var faults = role.FailedRuns == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture,
                $"; {role.FailedRuns:N0} failed runs ({role.AllocationFailures:N0} out of memory): {role.Splits:N0} splits, " +
                $"{role.Retries:N0} retries alone, {role.Quarantined:N0} requests failed alone");
            display.Line(string.Create(CultureInfo.InvariantCulture,
                $"  {role.Role}: {role.Batches:N0} batches, fill {role.Fill:P0}, padding {role.PaddingFraction:P1}, " +
                $"inside Run() {role.RunSeconds / role.Sessions / seconds:P0} of wall time per session{faults}"));
        }
        display.Line($"outputs: {output} (stats.json, run.json, one manifest per shard)");
        return new ScoreJobResult(run, total, configuration);
    }

    public static ModelSet Open(ScoreSettings settings) => ModelSet.Open(settings.ModelsFolder, new ModelSetOptions
    {
        SessionsPerRole = settings.Sessions,
        Session = new SessionOptions { IntraOpThreads = settings.Threads, InterOpThreads = 1, ExecutionProvider = settings.Provider },
    });
}
