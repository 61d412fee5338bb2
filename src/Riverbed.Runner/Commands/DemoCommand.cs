using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Riverbed.IO;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed demo</c>: scores the bundled sample (288 multi-turn OIG-style rows carried inside the binary) with the
/// demo models and shows where the outputs are, a summary table and a few scored rows. The first command a new user runs.
/// </summary>
internal static class DemoCommand
{
    public const string SampleResource = "Riverbed.Runner.Demo.demo.jsonl";

    public static Command Create()
    {
        var scoring = new ScoreOptionSet();
        var output = new Option<string>("--output", "-o")
        {
            Description = "Output folder",
            DefaultValueFactory = _ => "riverbed-demo-output",
        };
        var command = new Command("demo",
            "Score the bundled sample dataset (288 OIG-style dialogues) with models/demo and show the results. " +
            "The demo models have random weights: the run shows the mechanics, not real quality scores.");
        command.Options.Add(output);
        scoring.AddTo(command);
        CommandAction.SetGraceful(command, _ => TimeSpan.FromSeconds(Sharding.WorkerDefaults.GraceSeconds), async (parse, stop) =>
        {
            var settings = scoring.Resolve(parse, dataset: null);
            var folder = Path.GetFullPath(parse.GetValue(output)!);
            var sample = ExtractSample();
            var display = new RunDisplay();
            display.Line($"riverbed demo: scoring the bundled sample ({sample}) with {settings.ModelsFolder}");
            var result = await ScoreJob.RunAsync(settings, [ShardInput.FromFile(sample)], folder, display, stop).ConfigureAwait(false);
            var shard = result.Run.Shards[0];
            if (shard.Manifest is { } manifest)
            {
                display.Line(string.Empty);
                display.Line("Where things are:");
                foreach (var file in manifest.Files)
                {
                    display.Line($"  {Path.Combine(folder, file.Path)}");
                }
                display.Line($"  {Path.Combine(folder, "stats.json")}   counts and score histograms");
                display.Line($"  {Path.Combine(folder, "run.json")}     configuration, model digests, throughput");
                display.Line(string.Create(CultureInfo.InvariantCulture,
                    $"{result.Total.Kept:N0} kept, {result.Total.Removed:N0} removed of {result.Total.RowsIn:N0}. " +
                    $"Try: ./riverbed filter {folder} --output {folder}-filtered --threshold fill_compare_min=0.5"));
            }
            display.Line("The demo models have random weights (see models/README.md): their scores show the mechanics, not quality.");
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
    /// Writes the embedded sample to a temporary folder named by its content hash (once: an unchanged file keeps its
    /// time stamp, so a rerun of the demo finds its shard complete). The input must not lie inside the output folder.
    /// </summary>
    private static string ExtractSample()
    {
        using var stream = typeof(DemoCommand).Assembly.GetManifestResourceStream(SampleResource)
            ?? throw new RiverbedException($"the demo sample ({SampleResource}) is missing from this build of riverbed");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var bytes = memory.ToArray();
        var folder = Path.Combine(Path.GetTempPath(), "riverbed-demo", Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]);
        var path = Path.Combine(folder, "demo.jsonl");
        if (!File.Exists(path) || new FileInfo(path).Length != bytes.Length || !File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
        {
            AtomicFile.Replace(path, bytes);
        }
        return path;
    }
}
