using System.CommandLine;
using System.Diagnostics;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Scoring;
using Riverbed.Sharding;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed filter</c>: re-decides a scored output folder from its saved score columns, without any model, and writes
/// kept/ and removed/&lt;score&gt;/ shards with the new decisions, per-shard manifests and stats, stats.json and run.json.
/// With no --threshold it reproduces the scored run's decisions; thresholds given replace those of the same score
/// (<c>name=off</c> removes one), and <c>--combine</c> may name a subset of scores.
/// A scored run with shards that are not complete (never committed, failed, killed, or no longer matching their manifest)
/// is refused, since the filtered dataset would silently lack their rows; --allow-incomplete filters the complete shards
/// and names every shard it left out, and why.
/// </summary>
internal static class FilterCommand
{
    public static Command Create()
    {
        var scored = new Argument<string>("scored") { Description = "A folder written by riverbed score (it holds run.json and the scored shards)" };
        var output = new Option<string>("--output", "-o") { Description = "Output folder for kept/ and removed/<score>/", Required = true };
        var decisions = new DecisionOptions("How thresholds combine (default: the scored run's)");
        var calibration = new Option<string?>("--calibration")
        {
            Description = "A calibration.json from riverbed evaluate: start from its recommended thresholds (the target's, else the F1-optimal ones); " +
                "--threshold and --combine still apply on top",
        };
        var format = new Option<string?>("--format") { Description = "Output shard format (default: the scored run's)" };
        format.AcceptOnlyFromAmong("parquet", "jsonl");
        var allowIncomplete = new Option<bool>("--allow-incomplete")
        {
            Description = "Filter the complete shards of a scored run that has incomplete ones (failed, killed, never run), naming each shard left out",
        };
        var command = new Command("filter", "Re-decide scored shards from their saved scores (no models run) and write kept/ and removed/<score>/.")
        {
            scored, output, format, calibration, allowIncomplete,
        };
        decisions.AddTo(command);
        CommandAction.Set(command, async (parse, cancellationToken) =>
        {
            var started = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            var source = Path.GetFullPath(parse.GetValue(scored)!);
            var target = Path.GetFullPath(parse.GetValue(output)!);
            if (ResolvedPaths.IsSameOrInside(target, source) || ResolvedPaths.IsSameOrInside(source, target))
            {
                throw new RiverbedException($"the output folder {target} and the scored folder {source} must not contain one another");
            }
            var runJson = Path.Combine(source, "run.json");
            if (!File.Exists(runJson))
            {
                throw new RiverbedException($"{source} has no run.json: filter reads a folder written by riverbed score");
            }
            var configuration = RunConfiguration.Load(runJson);
            var leftOut = IncompleteShards(source);
            if (leftOut.Count > 0 && !parse.GetValue(allowIncomplete))
            {
                throw new RiverbedException(
                    $"{leftOut.Count} shard(s) of the scored run in {source} are not complete, so the filtered dataset would lack their rows: " +
                    $"{string.Join("; ", leftOut)}. Finish the run (run the same riverbed score command again), or pass --allow-incomplete to filter the complete shards only");
            }
            var basePolicy = configuration.Policy;
            string? calibrated = null;
            if (parse.GetValue(calibration) is { } calibrationFile)
            {
                var report = ReadCalibration(calibrationFile);
                var recommended = report.RecommendedSettings();
                basePolicy = basePolicy.With(recommended, null);
                calibrated = $"; thresholds from {calibrationFile}: {string.Join(", ", recommended)}";
            }
            var policy = decisions.Apply(parse, basePolicy);
            var chosenFormat = parse.GetValue(format) is { } name
                ? (name == "jsonl" ? OutputFormat.JsonLines : OutputFormat.Parquet)
                : configuration.Format;
            var options = new FilterOptions
            {
                ScoredFolder = source,
                OutputFolder = target,
                Source = configuration,
                Policy = policy,
                Format = chosenFormat,
            };
            var shards = ScoredShardFilter.Find(source, configuration.Hash);
            var display = new RunDisplay();
            foreach (var shard in leftOut)
            {
                await Console.Error.WriteLineAsync($"riverbed: left out (--allow-incomplete): {shard}").ConfigureAwait(false);
            }
            display.Line($"riverbed filter: {shards.Count} scored shard(s) in {source} -> {target}; policy {policy} (scored with {configuration.Policy}{calibrated})");
            var results = await ScoredShardFilter.RunAsync(shards, options, display.Shard, cancellationToken).ConfigureAwait(false);

            var total = new ScoreStatistics();
            foreach (var result in results.Where(r => r.Statistics is not null).OrderBy(r => r.Input.BaseName, StringComparer.Ordinal))
            {
                total.Merge(result.Statistics!);
            }
            RunRecord.WriteAtomically(Path.Combine(target, "stats.json"), total.ToJson());
            var effective = new RunConfiguration
            {
                Reader = configuration.Reader,
                Format = chosenFormat,
                Split = true,
                Limit = configuration.Limit,
                Scoring = configuration.Scoring,
                Policy = policy,
                ModelsFolder = configuration.ModelsFolder,
                Models = configuration.Models,
                Execution = configuration.Execution,
            };
            var record = new RunRecord
            {
                StartedUtc = started,
                FinishedUtc = DateTime.UtcNow,
                CommandLine = Environment.GetCommandLineArgs().Skip(1).ToList(),
                Inputs = shards.Select(s => s.DataPath).ToList(),
                Output = target,
                Configuration = effective,
                ConfigHash = options.ConfigHash,
                Source = source,
                Examples = results.Where(r => r.Status == ShardRunStatus.Committed).Sum(r => r.Manifest!.RowsOut),
                WallSeconds = clock.Elapsed.TotalSeconds,
                ShardsCommitted = results.Count(r => r.Status == ShardRunStatus.Committed),
                ShardsSkipped = results.Count(r => r.Status == ShardRunStatus.Skipped),
                ShardsFailed = results.Count(r => r.Status == ShardRunStatus.Failed),
            };
            RunRecord.WriteAtomically(Path.Combine(target, "run.json"), record.ToJson());
            display.Summary(results, total);
            display.Reasons(total);
            display.Line($"outputs: {Path.Combine(target, "kept")} and {Path.Combine(target, "removed")}/<score>/");
            var failed = results.Count(r => r.Status == ShardRunStatus.Failed);
            if (failed > 0)
            {
                await Console.Error.WriteLineAsync($"riverbed: {failed} shard(s) failed; fix them and run again (complete shards are skipped)").ConfigureAwait(false);
                return ExitCodes.PartialFailure;
            }
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Reads a calibration.json (for filter and report).</summary>
    internal static CalibrationReport ReadCalibration(string path)
    {
        try
        {
            return CalibrationReport.Parse(File.ReadAllBytes(path), path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RiverbedException($"--calibration {path}: cannot read it ({error.Message})", error);
        }
    }

    /// <summary>
    /// The shards of the scored job (its record lists every one) whose scored output is not complete, each with the
    /// reason status gives. A shard whose input has since changed or gone keeps its committed output: it is not left out.
    /// </summary>
    private static List<string> IncompleteShards(string scoredFolder)
    {
        if (JobRecord.TryLoad(scoredFolder) is null)
        {
            return [];
        }
        return JobStatus.Scan(scoredFolder).Shards
            .Where(shard => shard.Progress is ShardProgress.Pending or ShardProgress.Failed
                || (shard.Progress == ShardProgress.Stale && shard.Cause is not (ShardCause.InputChanged or ShardCause.InputMissing)))
            .Select(shard => $"{shard.Shard.Name} ({shard.Progress.ToString().ToLowerInvariant()}: {shard.Reason})")
            .ToList();
    }
}
