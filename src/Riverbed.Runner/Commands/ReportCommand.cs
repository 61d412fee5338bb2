using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Riverbed.IO;
using Riverbed.Runner.Report;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed report &lt;scored dir&gt; -o report.html</c>: one self-contained HTML file (inline style, script and SVG,
/// nothing loaded from anywhere) showing a scored run's summary, each score's histogram and threshold, deterministic
/// samples around each threshold with their evidence highlighted, and the rejects.
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("scored-dir") { Description = "Output folder of `riverbed score` (holds stats.json, run.json, manifests and shards)" };
        var output = new Option<string?>("--output", "-o") { Description = "HTML file to write (default: report.html inside the scored folder)" };
        var seed = new Option<string>("--seed")
        {
            Description = "Draw a different (equally deterministic) sample",
            DefaultValueFactory = _ => string.Empty,
        };
        var perBucket = new Option<int>("--per-bucket")
        {
            Description = "Examples per decision in each slice of a score's range",
            DefaultValueFactory = _ => 2,
        };
        var nearThreshold = new Option<int>("--near-threshold")
        {
            Description = "Examples per decision in each band next to a threshold",
            DefaultValueFactory = _ => 4,
        };
        var maxTurnChars = new Option<int>("--max-turn-chars")
        {
            Description = "Characters shown of one turn; longer turns show an excerpt around the first flagged span",
            DefaultValueFactory = _ => 1500,
        };
        var title = new Option<string?>("--title") { Description = "Title of the report (default: the folder's name)" };
        var calibration = new Option<string?>("--calibration")
        {
            Description = "A calibration.json from riverbed evaluate: draws each score's ROC and precision-recall curves with the operating point " +
                "(default: calibration.json in the scored folder, when there is one)",
        };
        var groupBy = new Option<string?>("--group-by")
        {
            Description = "A dataset column of the scored shards (e.g. source): the explorer also counts kept/removed per value of it",
        };
        var explorerRows = new Option<int>("--explorer-rows")
        {
            Description = "Rows whose scores the explorer embeds; a run with more embeds a seeded sample of this many (--seed), and says so",
            DefaultValueFactory = _ => 50_000,
        };
        var decisions = new DecisionOptions("How the report's thresholds combine (default: the scored run's)");
        var command = new Command("report", "Write a self-contained HTML report of a scored run: summary, histograms with thresholds, samples with highlighted evidence, rejects.");
        command.Arguments.Add(folder);
        command.Options.Add(output);
        command.Options.Add(seed);
        command.Options.Add(perBucket);
        command.Options.Add(nearThreshold);
        command.Options.Add(maxTurnChars);
        command.Options.Add(title);
        command.Options.Add(calibration);
        command.Options.Add(groupBy);
        command.Options.Add(explorerRows);
        decisions.AddTo(command);
        CommandAction.Set(command, async (parse, cancellationToken) =>
        {
            var stopwatch = Stopwatch.StartNew();
            var scored = parse.GetValue(folder)!;
            var sampling = new SamplingOptions
            {
                PerBucket = Positive(parse.GetValue(perBucket), "--per-bucket", allowZero: true, max: 50),
                NearThreshold = Positive(parse.GetValue(nearThreshold), "--near-threshold", allowZero: true, max: 50),
                Seed = parse.GetValue(seed) ?? string.Empty,
            };
            var limits = new ReportLimits { MaxTurnChars = Positive(parse.GetValue(maxTurnChars), "--max-turn-chars", allowZero: false, max: 1_000_000) };
            var target = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(scored, "report.html"));
            if (Directory.Exists(target))
            {
                throw new RiverbedException($"{target} is a folder; give the HTML file to write, e.g. -o {Path.Combine(target, "report.html")}");
            }
            var content = ReportContent.Gather(scored, sampling, limits, parse.GetValue(title),
                decisions.Settings(parse), decisions.Rule(parse), parse.GetValue(calibration) is { } file ? Path.GetFullPath(file) : null,
                new ExplorerOptions
                {
                    MaxRows = Positive(parse.GetValue(explorerRows), "--explorer-rows", allowZero: false, max: 5_000_000),
                    GroupBy = parse.GetValue(groupBy) is { Length: > 0 } column ? column : null,
                },
                cancellationToken);
            var html = ReportWriter.Write(content);
            var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetBytes(html);
            await WriteAtomicallyAsync(target, bytes, cancellationToken).ConfigureAwait(false);
            var examples = content.Samples.SelectMany(s => s.Buckets).Sum(b => b.Kept.Count + b.Removed.Count);
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"riverbed report: {content.Run.Folder} -> {target} ({bytes.Length / 1024.0:N0} KiB; {content.Run.Shards.Count} shard(s), {content.Run.Statistics.RowsOut:N0} rows, {examples} sampled example(s); {stopwatch.Elapsed.TotalSeconds:N1} s)")).ConfigureAwait(false);
            foreach (var note in content.Run.Notes)
            {
                await Console.Out.WriteLineAsync("  note: " + note).ConfigureAwait(false);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static int Positive(int value, string option, bool allowZero, int max) =>
        value < (allowZero ? 0 : 1) || value > max
            ? throw new RiverbedException($"{option} must be between {(allowZero ? 0 : 1)} and {max:N0}, got {value}")
            : value;

    /// <summary>Writes beside the target and renames, so a reader never opens half a report.</summary>
    private static async Task WriteAtomicallyAsync(string target, byte[] bytes, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(directory))
        {
            throw new RiverbedException($"cannot write {target}: the folder {directory} does not exist");
        }
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await Task.Run(() => AtomicFile.Replace(target, bytes), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RiverbedException($"cannot write {target}: {error.Message}", error);
        }
    }
}
