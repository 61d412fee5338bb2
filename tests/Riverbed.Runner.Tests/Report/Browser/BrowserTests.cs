using System.Text.Json.Nodes;
using Riverbed.IO;
using Riverbed.Runner.Report;
using Xunit.Abstractions;

namespace Riverbed.Runner.Tests.Report.Browser;

/// <summary>
/// The report in a real browser (Debian's chromium, headless): it renders offline, the histograms and highlights are in
/// the DOM with their styles applied, its script runs under its Content-Security-Policy, and no request leaves the page.
/// The request detector is proven on pages that do make requests. Skipped, with the reason, where chromium is missing
/// and cannot be installed.
/// </summary>
[Trait("Category", "Browser")]
public sealed class BrowserTests(ITestOutputHelper output)
{
    /// <summary>What a page reports about itself; read after load.</summary>
    private const string Inspect = """
        (() => {
          const marks = [...document.querySelectorAll('article mark.k-fill.flagged')].map(m => ({
            text: m.textContent,
            note: m.nextElementSibling ? m.nextElementSibling.textContent : null,
            background: getComputedStyle(m).backgroundColor,
            title: m.title,
            id: m.closest('article') ? m.closest('article').dataset.id : null,
            turn: m.closest('.turn') ? Number(m.closest('.turn').dataset.turn) : -1
          }));
          let partners = -1, pairElements = -1;
          const sentence = document.querySelector('mark.k-contradiction[data-pair]');
          if (sentence) {
            const selector = '[data-pair="' + sentence.dataset.pair + '"]';
            pairElements = sentence.closest('article').querySelectorAll(selector).length;
            sentence.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
            partners = sentence.closest('article').querySelectorAll('.pair-hot' + selector).length;
            sentence.dispatchEvent(new MouseEvent('mouseout', { bubbles: true }));
          }
          return {
            title: document.title,
            histograms: document.querySelectorAll('svg.hist').length,
            bars: document.querySelectorAll('svg.hist rect.bar').length,
            thresholds: document.querySelectorAll('svg.hist line.threshold').length,
            examples: document.querySelectorAll('article.example').length,
            images: document.images.length,
            scripts: document.scripts.length,
            navWidth: document.querySelector('nav') ? document.querySelector('nav').getBoundingClientRect().width : 0,
            marks: marks,
            partners: partners,
            pairElements: pairElements,
            violations: window.__cspViolations || []
          };
        })()
        """;

    [SkippableFact]
    public async Task A_demo_runs_report_opens_offline_with_histograms_and_highlights_and_requests_nothing()
    {
        Skip.If(Chromium.Path is null, Chromium.Unavailable);
        using var scratch = new ScratchFolder("report-browser");
        var run = DemoRun(scratch);
        var report = scratch.File("report.html");
        var result = Cli.Run("report", run, "-o", report);
        Assert.True(result.ExitCode == 0, result.ToString());

        await using var browser = await BrowserSession.StartAsync();
        var page = await browser.OpenAsync(report);
        var state = await page.EvaluateAsync(Inspect);
        await SaveBesideTestOutputAsync(report, await page.ScreenshotAsync());

        Assert.Empty(page.OutgoingRequests);
        Assert.Empty(page.BlockedRequests);
        Assert.Equal([page.Url], page.Requests);
        Assert.Empty(page.Dialogs);
        Assert.Empty(state.GetProperty("violations").EnumerateArray());
        Assert.Equal(4, state.GetProperty("histograms").GetInt32());
        Assert.Equal(120, state.GetProperty("bars").GetInt32());
        Assert.Equal(3, state.GetProperty("thresholds").GetInt32());
        Assert.Equal(0, state.GetProperty("images").GetInt32());
        Assert.Equal(1, state.GetProperty("scripts").GetInt32());
        Assert.True(state.GetProperty("navWidth").GetDouble() > 1000, "the page is laid out at the viewport's width");

        // A flagged fill on the page, checked against the shard itself: the highlighted text is exactly the recorded
        // span of the turn's text, and the replacement shown is the model's recorded fill.
        var marks = state.GetProperty("marks").EnumerateArray().ToList();
        Assert.NotEmpty(marks);
        var shown = marks[0];
        var recorded = FlaggedFills(Path.Combine(run, "demo.parquet"), shown.GetProperty("id").GetString()!);
        Assert.Contains(recorded, fill => fill.Turn == shown.GetProperty("turn").GetInt32() && fill.Text == shown.GetProperty("text").GetString()
            && shown.GetProperty("note").GetString()!.StartsWith("→ " + fill.Replacement + " ", StringComparison.Ordinal));
        Assert.Contains("model's fill “", shown.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.NotEqual("rgba(0, 0, 0, 0)", shown.GetProperty("background").GetString());
        // Hovering one sentence of a pair lights up every piece of both sentences and both notes: the script ran.
        Assert.True(state.GetProperty("pairElements").GetInt32() >= 4, state.GetRawText());
        Assert.Equal(state.GetProperty("pairElements").GetInt32(), state.GetProperty("partners").GetInt32());
    }

    [SkippableFact]
    public async Task Hostile_and_multi_byte_text_renders_inert_in_the_browser()
    {
        Skip.If(Chromium.Path is null, Chromium.Unavailable);
        using var scratch = new ScratchFolder("report-browser-hostile");
        var run = ScoredRunGenerator.Create(scratch.Path, new ScoredRunSpec { Rows = 100 });
        var report = scratch.File("report.html");
        var result = Cli.Run("report", run.OutputFolder, "-o", report);
        Assert.True(result.ExitCode == 0, result.ToString());

        await using var browser = await BrowserSession.StartAsync();
        var page = await browser.OpenAsync(report);
        var state = await page.EvaluateAsync(Inspect);
        Assert.Empty(page.OutgoingRequests);
        Assert.Empty(page.BlockedRequests);
        Assert.Empty(page.Dialogs);
        Assert.Empty(state.GetProperty("violations").EnumerateArray());
        Assert.Equal(0, state.GetProperty("images").GetInt32());
        Assert.Equal(1, state.GetProperty("scripts").GetInt32());
        var hostile = state.GetProperty("marks").EnumerateArray().First(m => m.GetProperty("id").GetString() == Planted.Hostile);
        Assert.Equal("<script>", hostile.GetProperty("text").GetString());
        Assert.StartsWith("→ " + Planted.HostileReplacement, hostile.GetProperty("note").GetString(), StringComparison.Ordinal);
        var emoji = state.GetProperty("marks").EnumerateArray().First(m => m.GetProperty("id").GetString() == Planted.MultiByte);
        Assert.Equal("😀", emoji.GetProperty("text").GetString());
    }

    [SkippableFact]
    public async Task The_request_detector_sees_a_page_that_loads_from_the_network_and_the_reports_policy_stops_it()
    {
        Skip.If(Chromium.Path is null, Chromium.Unavailable);
        using var scratch = new ScratchFolder("report-browser-negative");
        const string loads = """
            <link rel="stylesheet" href="http://riverbed-test.invalid/style.css">
            <img src="https://riverbed-test.invalid/pixel.png">
            <script>
              fetch('https://riverbed-test.invalid/fetch').catch(function () {});
              try { new WebSocket('wss://riverbed-test.invalid/socket'); } catch (e) {}
            </script>
            """;
        var leaky = scratch.File("leaky.html");
        File.WriteAllText(leaky, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>leaky</title></head><body>" + loads + "</body></html>");
        var guarded = scratch.File("guarded.html");
        File.WriteAllText(guarded, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\""
            + ReportAssets.ContentSecurityPolicy + "\"><title>guarded</title></head><body>" + loads + "</body></html>");

        await using var browser = await BrowserSession.StartAsync();
        var leakyPage = await browser.OpenAsync(leaky);
        output.WriteLine("leaky page requested: " + string.Join(", ", leakyPage.OutgoingRequests));
        Assert.Contains("http://riverbed-test.invalid/style.css", leakyPage.OutgoingRequests);
        Assert.Contains("https://riverbed-test.invalid/pixel.png", leakyPage.OutgoingRequests);
        Assert.Contains("wss://riverbed-test.invalid/socket", leakyPage.OutgoingRequests);

        Assert.Contains("https://riverbed-test.invalid/fetch", leakyPage.OutgoingRequests);
        Assert.Empty(leakyPage.BlockedRequests);

        // The same markup under the report's policy: the inline script is not the report's, so it never runs, and the
        // stylesheet and image are refused before anything is sent.
        var guardedPage = await browser.OpenAsync(guarded);
        var violations = (await guardedPage.EvaluateAsync("window.__cspViolations")).EnumerateArray().Select(v => v.GetString()).ToList();
        output.WriteLine("guarded page violations: " + string.Join(", ", violations) + "; blocked: " + string.Join(", ", guardedPage.BlockedRequests));
        Assert.Empty(guardedPage.OutgoingRequests);
        Assert.Equal(["http://riverbed-test.invalid/style.css", "https://riverbed-test.invalid/pixel.png"], guardedPage.BlockedRequests.Order(StringComparer.Ordinal));
        Assert.Contains(violations, v => v!.StartsWith("img-src", StringComparison.Ordinal));
        Assert.Contains(violations, v => v!.StartsWith("script-src", StringComparison.Ordinal));
    }

    /// <summary>
    /// A real <c>riverbed demo</c> run, with fills flagged below 0.5 (the demo models' fills score about 0.35, so the
    /// default flag level, 0, flags none) and the fill threshold raised to match, so removed rows carry flagged fills.
    /// The configuration is the demo's own run.json with that one scoring option changed.
    /// </summary>
    private static string DemoRun(ScratchFolder scratch)
    {
        var probe = scratch.File("probe");
        var first = Cli.Run("demo", "-o", probe, "--limit", "1");
        Assert.True(first.ExitCode == 0, first.ToString());
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(probe, "run.json")))!;
        record["config"]!["scoring"]!["fill_flag_below"] = 0.5;
        record["config"]!["limit"] = null;
        var config = scratch.File("config.json");
        File.WriteAllText(config, record.ToJsonString());
        var output = scratch.File("demo");
        var demo = Cli.Run("demo", "-o", output, "--config", config, "--threshold", "fill_compare_min=0.5");
        Assert.True(demo.ExitCode == 0, demo.ToString());
        return output;
    }

    /// <summary>The flagged fill spans of one row as the shard records them, with the text they cover.</summary>
    private static List<(int Turn, string Text, string Replacement)> FlaggedFills(string shard, string id)
    {
        using var query = ShardQuery.Open();
        using var result = query.Run($"SELECT riverbed_turns, riverbed_spans FROM {ShardQuery.ParquetScan([shard])} WHERE riverbed_id = {ShardQuery.Literal(id)}");
        var row = Assert.Single(result.Rows());
        var texts = row[0].Items.Select(turn => turn.Items[2].AsString()).ToList();
        return row[1].Items
            .Where(span => span.Items[0].AsString() == "fill" && span.Items[7].AsBoolean())
            .Select(span => (span.Items[1].AsInt32(), texts[span.Items[1].AsInt32()][span.Items[2].AsInt32()..span.Items[3].AsInt32()], span.Items[5].AsString()))
            .ToList();
    }

    /// <summary>Keeps the report and its screenshot beside the test output, where CI collects artifacts.</summary>
    private async Task SaveBesideTestOutputAsync(string report, byte[] screenshot)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "browser");
        Directory.CreateDirectory(folder);
        await File.WriteAllBytesAsync(Path.Combine(folder, "report-screenshot.png"), screenshot);
        File.Copy(report, Path.Combine(folder, "report.html"), overwrite: true);
        output.WriteLine($"screenshot: {Path.Combine(folder, "report-screenshot.png")} ({screenshot.Length:N0} bytes)");
        Assert.True(screenshot.Length > 10_000 && screenshot.AsSpan(1, 3).SequenceEqual("PNG"u8), "a real PNG screenshot");
    }
}
