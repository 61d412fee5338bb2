using System.Globalization;
using Riverbed.Pipeline;
using Spectre.Console;

namespace Riverbed.Runner;

/// <summary>
/// How a run shows progress: on a terminal a live bar (examples/s, real tokens/s, batch fill, ETA); otherwise (tests,
/// CI, pipes) a plain line every few seconds. Shard outcomes and the final summary print the same way in both.
/// </summary>
internal sealed class RunDisplay
{
    private readonly IAnsiConsole _console;

    public RunDisplay()
    {
        Interactive = !System.Console.IsOutputRedirected
            && Environment.GetEnvironmentVariable("TERM") is not ("dumb" or null or "")
            && AnsiConsole.Profile.Capabilities.Interactive;
        var redirected = System.Console.IsOutputRedirected;
        _console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Out = new AnsiConsoleOutput(System.Console.Out),
        });
        if (!Interactive)
        {
            // A log file has no width: do not wrap tables at 80 columns.
            _console.Profile.Width = 160;
        }
    }

    public bool Interactive { get; }

    public IAnsiConsole Console => _console;

    /// <summary>A line of text: through the live display on a terminal (so it lands above the bar), as is otherwise.</summary>
    public void Line(string text)
    {
        if (Interactive)
        {
            _console.WriteLine(text);
        }
        else
        {
            System.Console.Out.WriteLine(text);
        }
    }

    public void Note(string text)
    {
        if (Interactive)
        {
            _console.MarkupLine($"[yellow]note:[/] {Markup.Escape(text)}");
        }
        else
        {
            System.Console.Out.WriteLine($"note: {text}");
        }
    }

    /// <summary>Runs <paramref name="run"/> while showing <paramref name="progress"/>; returns its result.</summary>
    public async Task<T> TrackAsync<T>(Func<Task<T>> run, Func<ProgressSnapshot?> progress, TimeSpan logEvery, string label)
    {
        if (!Interactive)
        {
            var task = run();
            while (await Task.WhenAny(task, Task.Delay(logEvery)).ConfigureAwait(false) != task)
            {
                if (progress() is { } snapshot)
                {
                    Line($"{label}: {Describe(snapshot)}");
                }
            }
            return await task.ConfigureAwait(false);
        }
        return await _console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var bar = context.AddTask(label, maxValue: 1.0);
                var task = run();
                while (await Task.WhenAny(task, Task.Delay(TimeSpan.FromMilliseconds(250))).ConfigureAwait(false) != task)
                {
                    if (progress() is { } snapshot)
                    {
                        bar.Value = snapshot.Fraction ?? 0;
                        bar.Description = Markup.Escape($"{label}: {Describe(snapshot)}");
                    }
                }
                if (task.IsCompletedSuccessfully)
                {
                    bar.Value = 1;
                    if (progress() is { } last)
                    {
                        bar.Description = Markup.Escape($"{label}: {Describe(last)}");
                    }
                }
                bar.StopTask();
                return await task.ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    /// <summary>"1,234 examples (45.6/s) · 12,345 tokens/s · batch fill 87% · shards 2/5 · 40% · ETA 0:02:03".</summary>
    public static string Describe(ProgressSnapshot snapshot)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{snapshot.Examples:N0} examples ({snapshot.ExamplesPerSecond:0.0}/s) · {snapshot.RealTokensPerSecond:N0} tokens/s · " +
            $"batch fill {snapshot.BatchFill:P0} · shards {snapshot.ShardsDone}/{snapshot.ShardsTotal}");
        if (snapshot.Fraction is { } fraction)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" · {fraction:P0}");
        }
        if (snapshot.Remaining is { } remaining)
        {
            text += $" · ETA {remaining:h\\:mm\\:ss}";
        }
        return text;
    }

    public void Shard(ShardRunResult result)
    {
        var name = result.Input.Label;
        switch (result.Status)
        {
            case ShardRunStatus.Skipped:
                Line($"  {name}: skipped, {result.Message}");
                break;
            case ShardRunStatus.Committed:
                var s = result.Statistics;
                Line(s is null
                    ? $"  {name}: {result.Message}"
                    : string.Create(CultureInfo.InvariantCulture,
                        $"  {name}: {s.RowsIn:N0} in, {s.Kept:N0} kept, {s.Removed:N0} removed, {s.RowsRejected:N0} rejected, {s.RowsFailed:N0} failed"));
                break;
            case ShardRunStatus.Stopped:
                Line($"  {name}: {result.Message}");
                break;
            default:
                System.Console.Error.WriteLine($"  {name}: FAILED: {result.Message}");
                break;
        }
    }

    /// <summary>The final table: one row per shard, then the total.</summary>
    public void Summary(IReadOnlyList<ShardRunResult> shards, ScoreStatistics total)
    {
        var table = new Table().Border(Interactive ? TableBorder.Rounded : TableBorder.Ascii);
        table.AddColumn("shard");
        table.AddColumn("status");
        foreach (var column in new[] { "rows in", "kept", "removed", "rejected", "failed" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }
        foreach (var shard in shards)
        {
            var s = shard.Statistics;
            table.AddRow(Markup.Escape(shard.Input.Name), shard.Status.ToString().ToLowerInvariant(),
                Count(s?.RowsIn), Count(s?.Kept), Count(s?.Removed), Count(s?.RowsRejected), Count(s?.RowsFailed));
        }
        table.AddRow("total", string.Empty, Count(total.RowsIn), Count(total.Kept), Count(total.Removed), Count(total.RowsRejected), Count(total.RowsFailed));
        _console.Write(table);
    }

    /// <summary>Removal reasons and score summaries of the run's complete shards.</summary>
    public void Reasons(ScoreStatistics total)
    {
        if (total.RemovedByReason.Count > 0)
        {
            Line("removed by reason: " + string.Join(", ", total.RemovedByReason.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:N0}"))));
        }
        foreach (var (name, summary) in total.Scores)
        {
            if (summary.Count > 0)
            {
                Line(string.Create(CultureInfo.InvariantCulture,
                    $"  {name}: mean {summary.Sum / summary.Count:0.###}, min {summary.Min:0.###}, max {summary.Max:0.###} over {summary.Count:N0} (missing {summary.Missing:N0})"));
            }
        }
    }

    private static string Count(long? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "-";
}
