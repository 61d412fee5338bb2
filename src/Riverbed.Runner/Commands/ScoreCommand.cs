using System.CommandLine;
using Riverbed.IO;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed score</c>: scores dataset shards with the models and writes scored shards (the original columns, id,
/// source and row, score columns, decision, reasons, per-turn summaries and evidence spans), per-shard manifests and
/// stats, stats.json and run.json. A rerun skips complete shards and refuses a changed configuration.
/// </summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var dataset = new DatasetOptions();
        var scoring = new ScoreOptionSet();
        var workerOptions = new WorkerOptionSet();
        var output = new Option<string>("--output", "-o") { Description = "Output folder", Required = true };
        var command = new Command("score",
            "Score dataset files with the models (fill-and-compare, replaced-token detection, self-contradiction) and write scored shards; " +
            "a rerun skips complete shards. A model batch the runtime cannot run (out of memory) is halved and retried; an example whose " +
            "request fails even alone becomes a failed row with its reason ({base}.failures.jsonl), up to --max-failures per shard.");
        dataset.AddTo(command);
        command.Options.Add(output);
        scoring.AddTo(command);
        workerOptions.AddTo(command);
        CommandAction.SetGraceful(command, parse => TimeSpan.FromSeconds(parse.GetValue(workerOptions.Grace)), async (parse, stop) =>
        {
            var folder = parse.GetValue(output)!;
            CheckOutsideInputs(folder, parse.GetValue(dataset.Inputs) ?? []);
            var settings = scoring.Resolve(parse, dataset);
            var worker = workerOptions.Resolve(parse);
            var inputs = dataset.ResolveInputs(parse);
            var display = new RunDisplay();
            foreach (var skipped in inputs.Skipped)
            {
                display.Note($"skipped {skipped}");
            }
            var result = await ScoreJob.RunAsync(settings, inputs.Shards, folder, display, stop, worker).ConfigureAwait(false);
            var code = result.ExitCode(out var message);
            if (message is not null)
            {
                await Console.Error.WriteLineAsync($"riverbed: {message}").ConfigureAwait(false);
            }
            return code;
        });
        return command;
    }

    /// <summary>
    /// An output folder inside (or, through a link, equal to) an input folder would be read as input by the next run, or
    /// overwrite the inputs; paths are compared resolved.
    /// </summary>
    internal static void CheckOutsideInputs(string output, IEnumerable<string> inputSpecs) =>
        ResolvedPaths.CheckOutputApartFromInputs(output, inputSpecs);
}
