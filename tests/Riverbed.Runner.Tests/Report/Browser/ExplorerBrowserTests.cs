using System.Text;
using System.Text.Json;
using Riverbed.Runner.Tests.Pipeline;
using Xunit.Abstractions;

namespace Riverbed.Runner.Tests.Report.Browser;

/// <summary>
/// The report's explorer in a real browser: thresholds dragged and typed, a score switched off, the combine rule
/// changed, all through the page; then the command the page shows is run as it stands, and `riverbed filter` keeps and
/// removes exactly the rows the page counted, overall and per source file.
/// </summary>
[Trait("Category", "Browser")]
public sealed class ExplorerBrowserTests(ITestOutputHelper output)
{
    /// <summary>The explorer's counts and command as the page shows them.</summary>
    private const string ReadExplorer = """
        (() => {
          const count = id => Number(document.getElementById(id).dataset.count);
          const rows = table => [...document.querySelectorAll('#' + table + ' tr[data-name]')].map(tr => ({
            name: tr.dataset.name,
            kept: Number(tr.querySelector('.x-kept').textContent.replace(/,/g, '')),
            removed: Number(tr.querySelector('.x-removed').textContent.replace(/,/g, ''))
          }));
          return {
            total: count('x-total'), kept: count('x-kept'), removed: count('x-removed'),
            sources: rows('x-sources'), groups: rows('x-groups'),
            command: document.getElementById('x-command').textContent,
            sampled: document.getElementById('x-basis').dataset.sampled,
            near: document.querySelectorAll('#x-near article.example').length,
            flaggedFills: document.querySelectorAll('#x-pool mark.k-fill.flagged').length,
            fillThreshold: Number(document.querySelector('.x-score[data-score="fill_compare_min"] input.x-value').value),
            fills: [...document.querySelectorAll('#x-pool mark.k-fill[data-score]')].map(m => ({ score: Number(m.dataset.score), flagged: m.classList.contains('flagged') })),
            violations: window.__cspViolations || []
          };
        })()
        """;

    [SkippableFact]
    public async Task A_threshold_moved_in_the_explorer_keeps_and_removes_what_riverbed_filter_does_with_the_command_it_shows()
    {
        Skip.If(Chromium.Path is null, Chromium.Unavailable);
        using var scratch = new ScratchFolder("report-explorer");
        var scored = ScoreDemoInTwoFiles(scratch);
        var report = scratch.File("report.html");
        var made = Cli.Run("report", scored, "-o", report, "--group-by", "metadata.planted");
        Assert.True(made.ExitCode == 0, made.ToString());

        await using var browser = await BrowserSession.StartAsync();
        var page = await browser.OpenAsync(report, height: 1100);
        var start = await page.EvaluateAsync(ReadExplorer);
        output.WriteLine("start: " + start.GetRawText());

        // Before anything moves, the page decides as the scored run did.
        using (var stats = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(scored, "stats.json"))))
        {
            Assert.Equal(stats.RootElement.GetProperty("kept").GetInt64(), start.GetProperty("kept").GetInt64());
            Assert.Equal(stats.RootElement.GetProperty("removed").GetInt64(), start.GetProperty("removed").GetInt64());
        }
        Assert.Equal("false", start.GetProperty("sampled").GetString());
        Assert.Equal(2, start.GetProperty("sources").GetArrayLength());
        Assert.Equal(start.GetProperty("total").GetInt64(), Sum(start, "groups", "kept") + Sum(start, "groups", "removed"));
        Assert.DoesNotContain("--threshold", start.GetProperty("command").GetString(), StringComparison.Ordinal);
        Assert.Empty(page.OutgoingRequests);

        // Drag the fill_compare_min line with the mouse to the median of its values (read from the embedded data, placed
        // on the axis by its end labels), and switch contradiction_max off.
        var box = await page.EvaluateAsync("""
            (() => {
              const card = document.querySelector('.x-score[data-score="fill_compare_min"]');
              const svg = card.querySelector('svg.xhist');
              svg.scrollIntoView({ block: 'center' });
              const r = svg.getBoundingClientRect();
              const ticks = [...svg.querySelectorAll('text.axis')].map(t => Number(t.textContent));
              const data = JSON.parse(document.getElementById('x-data').dataset.explorer);
              const bytes = Uint8Array.from(atob(data.scores[0].values), c => c.charCodeAt(0));
              const values = [...new Float64Array(bytes.buffer)].filter(v => !Number.isNaN(v)).sort((a, b) => a - b);
              return { left: r.left, top: r.top, width: r.width, height: r.height, low: ticks[0], high: ticks[2], median: values[values.length >> 1] };
            })()
            """);
        var (left, top, width, height) = (box.GetProperty("left").GetDouble(), box.GetProperty("top").GetDouble(), box.GetProperty("width").GetDouble(), box.GetProperty("height").GetDouble());
        var (low, high, median) = (box.GetProperty("low").GetDouble(), box.GetProperty("high").GetDouble(), box.GetProperty("median").GetDouble());
        var scale = width / 660;
        var target = left + ((46 + (604 * (median - low) / (high - low))) * scale);
        await page.DragAsync(left + (100 * scale), top + (height / 2), target, top + (height / 2));
        await page.EvaluateAsync("document.querySelector('.x-score[data-score=\"contradiction_max\"] input.x-on').click(), true");
        var dragged = await page.EvaluateAsync(ReadExplorer);
        output.WriteLine("dragged: " + dragged.GetRawText());
        var command = dragged.GetProperty("command").GetString()!;
        Assert.Contains("--threshold fill_compare_min=", command, StringComparison.Ordinal);
        Assert.Contains("--threshold contradiction_max=off", command, StringComparison.Ordinal);
        Assert.NotEqual(start.GetProperty("removed").GetInt64(), dragged.GetProperty("removed").GetInt64());
        Assert.InRange(dragged.GetProperty("removed").GetInt64(), 1, dragged.GetProperty("total").GetInt64() - 1);
        Assert.True(dragged.GetProperty("near").GetInt32() > 0, "examples either side of the dragged threshold are shown");
        // Evidence follows the moved threshold: a fill is flagged exactly when its position score is below it.
        var threshold = dragged.GetProperty("fillThreshold").GetDouble();
        var fills = dragged.GetProperty("fills").EnumerateArray().ToList();
        Assert.NotEmpty(fills);
        Assert.All(fills, fill => Assert.Equal(fill.GetProperty("score").GetDouble() < threshold, fill.GetProperty("flagged").GetBoolean()));
        Assert.Contains(fills, fill => fill.GetProperty("flagged").GetBoolean());
        await SaveScreenshotAsync(page);
        await AssertFilterAgreesAsync(dragged, scored);

        // Type a replaced_entity_max threshold and ask for rows where every score that is on triggers.
        await page.EvaluateAsync("""
            (() => {
              const input = document.querySelector('.x-score[data-score="replaced_entity_max"] input.x-value');
              input.value = '0.25';
              input.dispatchEvent(new Event('input', { bubbles: true }));
              const combine = document.getElementById('x-combine');
              combine.value = 'all';
              combine.dispatchEvent(new Event('change', { bubbles: true }));
              return true;
            })()
            """);
        var typed = await page.EvaluateAsync(ReadExplorer);
        output.WriteLine("typed: " + typed.GetRawText());
        Assert.Contains("--threshold replaced_entity_max=0.25", typed.GetProperty("command").GetString(), StringComparison.Ordinal);
        Assert.Contains("--combine all", typed.GetProperty("command").GetString(), StringComparison.Ordinal);
        await AssertFilterAgreesAsync(typed, scored);

        // A threshold exactly on a row's value (typed as JavaScript prints that double): "<" is strict, so that row is
        // kept, by the page and by filter alike, which only holds if both decide on the very same float64 values.
        var exact = await page.EvaluateAsync("""
            (() => {
              const data = JSON.parse(document.getElementById('x-data').dataset.explorer);
              const bytes = Uint8Array.from(atob(data.scores[0].values), c => c.charCodeAt(0));
              const values = [...new Float64Array(bytes.buffer)].filter(v => !Number.isNaN(v)).sort((a, b) => a - b);
              const value = values[values.length >> 1];
              const input = document.querySelector('.x-score[data-score="fill_compare_min"] input.x-value');
              input.value = String(value);
              input.dispatchEvent(new Event('input', { bubbles: true }));
              const combine = document.getElementById('x-combine');
              combine.value = 'any';
              combine.dispatchEvent(new Event('change', { bubbles: true }));
              document.querySelector('.x-score[data-score="replaced_entity_max"] input.x-on').click();
              return { value: String(value), below: values.filter(v => v < value).length, equal: values.filter(v => v === value).length };
            })()
            """);
        var tie = await page.EvaluateAsync(ReadExplorer);
        output.WriteLine("tie: " + exact.GetRawText() + " " + tie.GetRawText());
        Assert.True(exact.GetProperty("equal").GetInt32() >= 1);
        Assert.Equal(exact.GetProperty("below").GetInt64(), tie.GetProperty("removed").GetInt64());
        Assert.Contains("--threshold replaced_entity_max=off", tie.GetProperty("command").GetString(), StringComparison.Ordinal);
        Assert.Contains("--threshold fill_compare_min=" + exact.GetProperty("value").GetString(), tie.GetProperty("command").GetString(), StringComparison.Ordinal);
        await AssertFilterAgreesAsync(tie, scored);

        Assert.Empty(page.OutgoingRequests);
        Assert.Empty(typed.GetProperty("violations").EnumerateArray());
    }

    /// <summary>Runs the page's command as shown and compares filter's stats with the page's counts, per source too.</summary>
    private async Task AssertFilterAgreesAsync(JsonElement page, string scored)
    {
        var words = ShellWords(page.GetProperty("command").GetString()!);
        Assert.Equal(["riverbed", "filter", scored], words.Take(3));
        var target = words[words.IndexOf("-o") + 1];
        Assert.Equal(scored + "-filtered", target);
        if (Directory.Exists(target))
        {
            // Filter refuses to mix decisions in one folder; the earlier round's output goes.
            Directory.Delete(target, recursive: true);
        }
        var filtered = await Task.Run(() => Cli.Run([.. words.Skip(1)]));
        Assert.True(filtered.ExitCode == 0, filtered.ToString());
        using var stats = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(target, "stats.json")));
        var root = stats.RootElement;
        Assert.Equal(root.GetProperty("kept").GetInt64(), page.GetProperty("kept").GetInt64());
        Assert.Equal(root.GetProperty("removed").GetInt64(), page.GetProperty("removed").GetInt64());
        var sources = root.GetProperty("sources").EnumerateObject().ToDictionary(s => s.Name, s => (s.Value.GetProperty("kept").GetInt64(), s.Value.GetProperty("removed").GetInt64()));
        var shown = page.GetProperty("sources").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => (s.GetProperty("kept").GetInt64(), s.GetProperty("removed").GetInt64()));
        Assert.Equal(sources.OrderBy(p => p.Key, StringComparer.Ordinal), shown.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(2, shown.Count);
    }

    /// <summary>The bundled demo dataset split into two files, scored with the demo models: a few hundred rows, two sources.</summary>
    private static string ScoreDemoInTwoFiles(ScratchFolder scratch)
    {
        var lines = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, "src", "Riverbed.Runner", "Demo", "demo.jsonl"));
        var data = scratch.File("data");
        Directory.CreateDirectory(data);
        File.WriteAllLines(Path.Combine(data, "part-a.jsonl"), lines.Take(170));
        File.WriteAllLines(Path.Combine(data, "part-b.jsonl"), lines.Skip(170));
        var scored = scratch.File("scored");
        var run = Cli.Run("score", data, "--models", PipelineModels.Demo, "--output", scored, "--threshold", "fill_compare_min=0.3");
        Assert.True(run.ExitCode == 0, run.ToString());
        return scored;
    }

    private static long Sum(JsonElement state, string table, string field) =>
        state.GetProperty(table).EnumerateArray().Sum(row => row.GetProperty(field).GetInt64());

    /// <summary>Splits a command line as a POSIX shell does for the quoting the page uses (single quotes, '\'' inside them).</summary>
    internal static List<string> ShellWords(string command)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            if (c == '\'')
            {
                var end = command.IndexOf('\'', i + 1);
                Assert.True(end > i, "an unterminated quote in " + command);
                current.Append(command, i + 1, end - i - 1);
                i = end;
                inWord = true;
            }
            else if (c == '\\' && i + 1 < command.Length)
            {
                current.Append(command[++i]);
                inWord = true;
            }
            else if (c == ' ')
            {
                if (inWord)
                {
                    words.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }
            }
            else
            {
                current.Append(c);
                inWord = true;
            }
        }
        if (inWord)
        {
            words.Add(current.ToString());
        }
        return words;
    }

    /// <summary>The explorer as it looks after the drag, kept beside the test output (the README's picture is one of these).</summary>
    private async Task SaveScreenshotAsync(LoadedPage page)
    {
        var region = await page.EvaluateAsync("""
            (() => {
              const r = document.getElementById('explorer').getBoundingClientRect();
              return { x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: Math.min(r.height, 1250) };
            })()
            """);
        var png = await page.ScreenshotAsync((region.GetProperty("x").GetDouble(), region.GetProperty("y").GetDouble(),
            region.GetProperty("width").GetDouble(), region.GetProperty("height").GetDouble()));
        var folder = Path.Combine(AppContext.BaseDirectory, "browser");
        Directory.CreateDirectory(folder);
        await File.WriteAllBytesAsync(Path.Combine(folder, "report-explorer.png"), png);
        output.WriteLine($"screenshot: {Path.Combine(folder, "report-explorer.png")} ({png.Length:N0} bytes)");
        Assert.True(png.Length > 10_000 && png.AsSpan(1, 3).SequenceEqual("PNG"u8), "a real PNG screenshot");
    }
}
