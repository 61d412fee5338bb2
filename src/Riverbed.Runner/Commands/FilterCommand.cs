using System.CommandLine;
using System.Diagnostics;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Scoring;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed filter</c>: re-decides a scored output folder from its saved score columns, without any model, and writes
/// kept/ and removed/&lt;score&gt;/ shards with the new decisions, per-shard manifests and stats, stats.json and run.json.
/// With no --threshold it reproduces the scored run's decisions; thresholds given replace those of the same score.
/// </summary>
internal static class FilterCommand
{
    public static Command Create()
    {
        var scored = new Argument<string>("scored") { Description = "A folder written by riverbed score (it holds run.json and the scored shards)" };
        var output = new Option<string>("--output", "-o") { Description = "Output folder for kept/ and removed/<score>/", Required = true };
        var thresholds = new Option<string[]>("--threshold")
        {
            Description = "A decision threshold: name=value (the score's natural direction), name<value or name>value; repeatable. " +
                "Replaces the scored run's threshold for that score",
        };
        var combine = new Option<string?>("--combine") { Description = "any: remove when any threshold triggers; all: only when every one does (default: the scored run's)" };
        combine.AcceptOnlyFromAmong("any", "all");
        var format = new Option<string?>("--format") { Description = "Output shard format (default: the scored run's)" };
        format.AcceptOnlyFromAmong("parquet", "jsonl");
        var command = new Command("filter", "Re-decide scored shards from their saved scores (no models run) and write kept/ and removed/<score>/.")
        {
            scored, output, thresholds, combine, format,
        };
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
            var overrides = (parse.GetValue(thresholds) ?? []).Select(ScoreThreshold.Parse).ToList();
            ThresholdCombination? combination = parse.GetValue(combine) switch
            {
                "all" => ThresholdCombination.All,
                "any" => ThresholdCombination.Any,
                _ => null,
            };
            var policy = configuration.Policy.With(overrides, combination);
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
            display.Line($"riverbed filter: {shards.Count} scored shard(s) in {source} -> {target}; policy {policy} (scored with {configuration.Policy})");
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
}
