using System.Globalization;
using System.Text;
using Riverbed.Pipeline;
using Riverbed.Sharding;
using Spectre.Console;

namespace Riverbed.Runner;

/// <summary>
/// How a run shows progress: on a terminal a live bar (examples scored/s, real tokens/s, batch fill, work done, ETA);
/// otherwise (tests, CI, pipes) a plain line every few seconds. Shard outcomes and the final summary print the same way in both.
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

    /// <summary>
    /// Runs <paramref name="run"/> while showing <paramref name="progress"/>; returns its result. Once
    /// <paramref name="stop"/> is requested the progress says that the grace period is running and how much of it is left
    /// (instead of an ETA); in a log that line is printed at once, on a terminal the bar shows it.
    /// </summary>
    public async Task<T> TrackAsync<T>(Func<Task<T>> run, Func<ProgressSnapshot?> progress, TimeSpan logEvery, string label, GracefulStop? stop = null)
    {
        string Status(ProgressSnapshot snapshot, TimeSpan? graceLeft) => $"{label}: {Describe(snapshot, graceLeft)}";
        if (!Interactive)
        {
            using var stopping = stop is { } requested
                ? requested.Intake.Register(() =>
                {
                    // From the signal handler's thread as the request is taken (a fresh request has all its grace left).
                    if (progress() is { } now)
                    {
                        Line(Status(now, requested.Grace));
                    }
                })
                : default;
            var task = run();
            while (await Task.WhenAny(task, Task.Delay(logEvery)).ConfigureAwait(false) != task)
            {
                if (progress() is { } snapshot)
                {
                    Line(Status(snapshot, stop?.GraceLeft));
                }
            }
            return await task.ConfigureAwait(false);
        }
        var standardError = System.Console.Error;
        // Where standard error is this terminal too, a message written to it while the bar is live (a stop request, a
        // shard that failed) would be drawn over by the bar: such lines go through the live display instead.
        if (!System.Console.IsErrorRedirected)
        {
            System.Console.SetError(TextWriter.Synchronized(new LineForwarder(Line)));
        }
        try
        {
            return await _console.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var bar = context.AddTask(label, maxValue: 1.0);
                    var task = run();
                    while (await Task.WhenAny(task, Task.Delay(TimeSpan.FromMilliseconds(250))).ConfigureAwait(false) != task)
                    {
                        if (progress() is { } snapshot)
                        {
                            bar.Value = snapshot.Fraction ?? 0;
                            bar.Description = Markup.Escape(Status(snapshot, stop?.GraceLeft));
                        }
                    }
                    if (task.IsCompletedSuccessfully && progress() is { } last)
                    {
                        // The work done, not a full bar: a stopped run ends short of it.
                        bar.Value = last.Fraction ?? 0;
                        bar.Description = Markup.Escape(Status(last, stop?.GraceLeft));
                    }
                    bar.StopTask();
                    return await task.ConfigureAwait(false);
                }).ConfigureAwait(false);
        }
        finally
        {
            System.Console.SetError(standardError);
        }
    }

    /// <summary>
    /// "1,234 examples scored (45.6/s) · 12,345 tokens/s · batch fill 87% · shards 2/5 · 40% done · ETA 0:02:03"; while a
    /// stop's grace period runs, "stopping, grace 0:00:27 left" instead of the ETA. The percentage is the work done
    /// rounded down, so it never shows more than was done (nor 100% before the end).
    /// </summary>
    public static string Describe(ProgressSnapshot snapshot, TimeSpan? graceLeft = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{snapshot.Examples:N0} examples scored ({snapshot.ExamplesPerSecond:0.0}/s) · {snapshot.RealTokensPerSecond:N0} tokens/s · " +
            $"batch fill {snapshot.BatchFill:P0} · shards {snapshot.ShardsDone}/{snapshot.ShardsTotal}");
        if (snapshot.Fraction is { } fraction)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" · {Math.Floor(Math.Clamp(fraction, 0, 1) * 100):0}% done");
        }
        if (graceLeft is { } left)
        {
            text += $" · stopping, grace {left:h\\:mm\\:ss} left";
        }
        else if (snapshot.Remaining is { } remaining)
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
        if (result.Note is { } note)
        {
            System.Console.Error.WriteLine($"riverbed: {note}");
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

    /// <summary>Hands each complete line written to it to a sink (the live display's <see cref="Line"/>).</summary>
    private sealed class LineForwarder(Action<string> sink) : TextWriter
    {
        private readonly StringBuilder _pending = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                Flush();
            }
            else if (value != '\r')
            {
                _pending.Append(value);
            }
        }

        public override void Flush()
        {
            if (_pending.Length > 0)
            {
                sink(_pending.ToString());
                _pending.Clear();
            }
        }
    }

    private static string Count(long? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "-";
}
