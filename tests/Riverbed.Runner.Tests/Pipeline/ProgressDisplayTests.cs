using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Riverbed.Runner.Tests.Pipeline;

/// <summary>
/// The progress display as a user sees it: <c>riverbed score</c> runs in a pseudo-terminal (util-linux <c>script</c>:
/// the live bar) or with its output redirected (a log line a second), and every progress line it shows is compared
/// with the work committed at that moment (the manifests on disk). Nothing here counts lines or waits for time: the
/// invariants hold for whatever lines a run happens to show.
/// </summary>
[Trait("Category", "Process")]
public sealed partial class ProgressDisplayTests
{
    /// <summary>
    /// Rows of the Alpaca sample in each input file: files of different sizes (so a byte share is not a file count), more
    /// rows in all than the pipeline holds in flight (so the run is still reading when the first file commits).
    /// </summary>
    private static readonly int[] RowsPerFile = [100, 250, 150, 300, 120, 200, 180, 200];

    /// <summary>The pipeline's bound on examples between the reader and the writer.</summary>
    private const int MaxExamplesInFlight = 512;

    /// <summary>
    /// On a terminal the stop request's message (written to standard error) appears as a line of its own above the bar;
    /// in a log (output redirected) a progress line saying that the stop's grace period is running is printed at once.
    /// </summary>
    [Theory]
    [InlineData(true, @"^riverbed: SIGTERM received: taking no new shard")]
    [InlineData(false, @"^scoring: .* · stopping, grace 0:10:00 left$")]
    public async Task Progress_never_runs_ahead_of_the_committed_work_by_more_than_one_file_and_a_SIGTERM_shows_the_stop(bool terminal, string stopLine)
    {
        using var scratch = new ScratchFolder("progress-display");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        using var alpaca = JsonDocument.Parse(File.ReadAllBytes(PipelineModels.Alpaca));
        var records = alpaca.RootElement.EnumerateArray().Select(record => JsonSerializer.Serialize(record)).ToList();
        var files = new List<(string Base, long Bytes, int Rows)>();
        var taken = 0;
        for (var i = 0; i < RowsPerFile.Length; i++)
        {
            var name = ((char)('a' + i)).ToString();
            var path = Path.Combine(inputs, name + ".jsonl");
            File.WriteAllLines(path, records.Skip(taken).Take(RowsPerFile[i]));
            taken += RowsPerFile[i];
            files.Add((name, new FileInfo(path).Length, RowsPerFile[i]));
        }
        var totalBytes = (double)files.Sum(f => f.Bytes);
        var mostRows = files.Max(f => f.Rows);
        var output = scratch.File("out");

        // A long grace lets the file in flight commit after the SIGTERM.
        string[] score = ["score", inputs, "--models", PipelineModels.Demo, "--output", output, "--format", "jsonl", "--grace", "600", "--log-every", "1"];
        using var process = Process.Start(terminal ? InTerminal(["dotnet", Cli.RiverbedDll, .. score]) : Cli.StartInfo(score))!;
        // The log's standard error, drained so the process never blocks on it (a terminal has one stream for both).
        var standardError = terminal ? Task.FromResult(string.Empty) : process.StandardError.ReadToEndAsync();
        var checks = new List<string>();
        var seen = new StringBuilder();
        long? pid = terminal ? null : process.Id;
        var stopSentAt = -1;
        var stopLineAt = -1;
        var lastExamples = 0L;
        var progressLines = 0;
        foreach (var line in Lines(process.StandardOutput))
        {
            seen.AppendLine(line);
            if (pid is null && PidLine().Match(line) is { Success: true } announced)
            {
                pid = long.Parse(announced.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            if (ProgressLine().Match(line) is { Success: true } progress)
            {
                progressLines++;
                var examples = long.Parse(progress.Groups["examples"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
                var percent = int.Parse(progress.Groups["percent"].Value, CultureInfo.InvariantCulture);
                // Read after the line was drawn: the committed work can only have grown since, so a line that ran ahead
                // of it then is caught, and one that did not is never blamed.
                // Files commit in input order, so the one in progress is the first without a manifest.
                var committed = files.Where(f => File.Exists(Path.Combine(output, f.Base + ".manifest.json"))).ToList();
                var committedBytes = committed.Sum(f => f.Bytes);
                var committedRows = committed.Sum(f => f.Rows);
                var inProgress = files.Except(committed).Select(f => f.Bytes).FirstOrDefault();
                var bound = (committedBytes + inProgress) / totalBytes * 100;
                checks.Add($"{percent}% with {committedBytes} of {totalBytes} bytes committed (bound {bound:0.0}%), {examples} examples");
                Assert.True(percent <= bound + 1e-9,
                    $"the display showed {percent}% with {committed.Count} file(s) ({committedBytes} of {totalBytes} bytes) committed and one file ({inProgress} bytes) in progress:\n{line}\n{Tail(seen)}");
                Assert.True(examples >= lastExamples, $"the example counter went down from {lastExamples} to {examples}:\n{Tail(seen)}");
                Assert.True(examples <= committedRows + mostRows + MaxExamplesInFlight,
                    $"{examples} examples shown with {committedRows} committed, at most {mostRows} in the file in progress and {MaxExamplesInFlight} in flight:\n{Tail(seen)}");
                lastExamples = examples;
            }
            if (stopSentAt < 0 && pid is { } id && CommitLine().IsMatch(line))
            {
                // At the first commit: the reader, at most 512 examples ahead, has not reached the last files yet.
                using var kill = Process.Start("kill", ["-TERM", id.ToString(CultureInfo.InvariantCulture)])!;
                kill.WaitForExit();
                stopSentAt = seen.Length;
            }
            if (stopLineAt < 0 && stopSentAt >= 0 && Regex.IsMatch(line.Trim(), stopLine))
            {
                stopLineAt = seen.Length;
            }
        }
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), Tail(seen));
        var log = Tail(seen) + "\n--- standard error\n" + await standardError + "\n--- checks\n" + string.Join('\n', checks.TakeLast(100));
        Assert.True(stopSentAt >= 0, "no file was committed, so no SIGTERM was sent:\n" + log);
        Assert.True(stopLineAt > stopSentAt, $"no line like '{stopLine}' after the SIGTERM:\n" + log);
        Assert.True(progressLines > 0, "no progress line was drawn:\n" + log);
        // Stopped with files not begun is "interrupted" (script -e exits with the command's code).
        Assert.True(process.ExitCode == ExitCodes.Interrupted, $"exit {process.ExitCode}:\n{log}");
    }

    /// <summary>
    /// Runs <paramref name="command"/> in a pseudo-terminal 250 columns wide (so the progress line is not wrapped), after
    /// announcing the process id it will have (the shell execs into it).
    /// </summary>
    private static ProcessStartInfo InTerminal(IEnumerable<string> command)
    {
        var quoted = string.Join(' ', command.Select(part => "'" + part.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        var info = new ProcessStartInfo("script")
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepositoryRoot,
            StandardOutputEncoding = Encoding.UTF8,
        };
        // -e: script exits with the command's code; -f: it passes output on as it comes.
        foreach (var argument in new[] { "-q", "-f", "-e", "-c", $"stty cols 250 rows 50; echo \"riverbed pid $$\"; exec {quoted}", "/dev/null" })
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["TERM"] = "xterm";
        info.Environment["NO_COLOR"] = "1";
        info.Environment["SHELL"] = "/bin/sh";
        // A CI variable would make the console library draw no live display.
        foreach (var variable in new[] { "CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILD_NUMBER", "TEAMCITY_VERSION", "TRAVIS", "APPVEYOR", "CIRCLECI" })
        {
            info.Environment.Remove(variable);
        }
        return info;
    }

    /// <summary>The end of what the terminal showed (the live display redraws its line many times).</summary>
    private static string Tail(StringBuilder seen) => seen.Length <= 20_000 ? seen.ToString() : "…" + seen.ToString(seen.Length - 20_000, 20_000);

    /// <summary>What the terminal shows, split where the display moves the cursor back (\r) or down (\n), escape codes removed.</summary>
    private static IEnumerable<string> Lines(StreamReader reader)
    {
        var current = new StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] is '\r' or '\n')
                {
                    if (current.Length > 0)
                    {
                        yield return Escape().Replace(current.ToString(), string.Empty);
                        current.Clear();
                    }
                }
                else
                {
                    current.Append(buffer[i]);
                }
            }
        }
        if (current.Length > 0)
        {
            yield return Escape().Replace(current.ToString(), string.Empty);
        }
    }

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])")]
    private static partial Regex Escape();

    [GeneratedRegex(@"^riverbed pid (\d+)$")]
    private static partial Regex PidLine();

    [GeneratedRegex(@"scoring: (?<examples>[\d,]+) examples scored .*? · (?<percent>\d+)% done")]
    private static partial Regex ProgressLine();

    [GeneratedRegex(@"[/\s][a-h]\.jsonl: \d+ in, ")]
    private static partial Regex CommitLine();
}
