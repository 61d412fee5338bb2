using System.CommandLine;
using System.Globalization;
using Riverbed.IO;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed convert</c>: normalizes dataset shards into output shards (Parquet or JSON Lines) with Riverbed's id,
/// source and row columns, using the commit protocol. No models are involved. Complete shards are skipped on a rerun.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var dataset = new DatasetOptions();
        var output = new Option<string>("--output", "-o") { Description = "Output folder", Required = true };
        var format = new Option<string>("--format")
        {
            Description = "Output shard format",
            DefaultValueFactory = _ => "parquet",
        };
        format.AcceptOnlyFromAmong("parquet", "jsonl");
        var onBadRecord = new Option<string>("--on-bad-record")
        {
            Description = "quarantine: write bad records to <shard>.rejects.jsonl and go on; fail: stop at the first, naming file:line",
            DefaultValueFactory = _ => "quarantine",
        };
        onBadRecord.AcceptOnlyFromAmong("quarantine", "fail");
        var maxRejects = new Option<string?>("--max-rejects")
        {
            Description = "Fail a shard with more rejects than this count (e.g. 100) or share of its records (e.g. 0.5%); default unlimited",
        };
        maxRejects.ParsesWith(budget =>
        {
            if (budget is not null)
            {
                RejectBudget.Parse(budget);
            }
        });
        var command = new Command("convert", "Normalize dataset files into output shards with id/source/row columns; a rerun skips complete shards.");
        dataset.AddTo(command);
        command.Options.Add(output);
        command.Options.Add(format);
        command.Options.Add(onBadRecord);
        command.Options.Add(maxRejects);
        CommandAction.Set(command, async (parse, cancellationToken) =>
        {
            var options = new ConvertOptions
            {
                OutputFolder = parse.GetValue(output)!,
                Format = parse.GetValue(format) == "jsonl" ? OutputFormat.JsonLines : OutputFormat.Parquet,
                Reader = dataset.Read(parse),
                OnBadRecord = parse.GetValue(onBadRecord) == "fail" ? BadRecordPolicy.Fail : BadRecordPolicy.Quarantine,
                MaxRejects = parse.GetValue(maxRejects) is { } budget ? RejectBudget.Parse(budget) : RejectBudget.Unlimited,
            };
            ScoreCommand.CheckOutsideInputs(options.OutputFolder, parse.GetValue(dataset.Inputs) ?? []);
            var resolved = dataset.ResolveInputs(parse);
            var inputs = resolved.Shards;
            Console.Out.WriteLine($"riverbed convert: {inputs.Count} shard(s) -> {Path.GetFullPath(options.OutputFolder)} ({(options.Format == OutputFormat.Parquet ? "parquet" : "jsonl")}, config {options.ConfigHash()})");
            foreach (var skipped in resolved.Skipped)
            {
                Console.Out.WriteLine($"  skipped {skipped}");
            }
            var outcomes = await ShardConverter.RunAsync(inputs, options, outcome => Print(outcome, options), cancellationToken).ConfigureAwait(false);
            return Summarize(outcomes);
        });
        return command;
    }

    private static void Print(ShardOutcome outcome, ConvertOptions options)
    {
        var name = outcome.Input.DisplayPath;
        switch (outcome.Kind)
        {
            case ShardOutcomeKind.Skipped:
                Console.Out.WriteLine($"  {name}: skipped, {outcome.Message}");
                break;
            case ShardOutcomeKind.Committed:
                var manifest = outcome.Manifest!;
                var schema = manifest.Schema is { } detected ? $"{detected.Schema} ({detected.Reason})" : "no schema (no valid record)";
                Console.Out.WriteLine($"  {name}: {outcome.Layout}, {schema}");
                Console.Out.WriteLine($"    {Number(manifest.RowsIn)} in, {Number(manifest.RowsOut)} out, {Number(manifest.RowsRejected)} rejected{Kinds(manifest.RejectsByKind)} -> {string.Join(", ", manifest.Outputs.Select(o => o.File.Path))} ({outcome.Message})");
                foreach (var reject in outcome.FirstRejects)
                {
                    Console.Out.WriteLine($"      {reject}");
                }
                if (manifest.Rejects is { } rejects)
                {
                    Console.Out.WriteLine($"    rejects: {Path.Combine(options.OutputFolder, rejects.Path)}");
                }
                break;
            default:
                Console.Error.WriteLine($"  {name}: FAILED: {outcome.Message}");
                foreach (var reject in outcome.FirstRejects)
                {
                    Console.Error.WriteLine($"      {reject}");
                }
                break;
        }
    }

    private static int Summarize(IReadOnlyList<ShardOutcome> outcomes)
    {
        var committed = outcomes.Where(o => o.Kind == ShardOutcomeKind.Committed).ToList();
        var skipped = outcomes.Count(o => o.Kind == ShardOutcomeKind.Skipped);
        var failed = outcomes.Count(o => o.Kind == ShardOutcomeKind.Failed);
        var manifests = outcomes.Where(o => o.Kind != ShardOutcomeKind.Failed && o.Manifest is not null).Select(o => o.Manifest!).ToList();
        Console.Out.WriteLine(
            $"done: {committed.Count} written, {skipped} skipped (complete), {failed} failed; rows in {Number(manifests.Sum(m => m.RowsIn))}, " +
            $"out {Number(manifests.Sum(m => m.RowsOut))}, rejected {Number(manifests.Sum(m => m.RowsRejected))}");
        if (failed > 0)
        {
            Console.Error.WriteLine($"riverbed: {failed} shard(s) failed; fix them and run again (complete shards are skipped)");
            return ExitCodes.PartialFailure;
        }
        return ExitCodes.Success;
    }

    private static string Kinds(IReadOnlyDictionary<string, long> byKind) =>
        byKind.Count == 0 ? string.Empty : " (" + string.Join(", ", byKind.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {Number(p.Value)}")) + ")";

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
