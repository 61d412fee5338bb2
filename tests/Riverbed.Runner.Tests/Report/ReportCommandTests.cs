using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Riverbed.IO;
using Xunit.Abstractions;

namespace Riverbed.Runner.Tests.Report;

/// <summary>One generated Parquet run and its report, shared by the tests that only read it.</summary>
public sealed class GeneratedReportFixture : IDisposable
{
    private readonly ScratchFolder _scratch = new("report");

    public GeneratedReportFixture()
    {
        Run = ScoredRunGenerator.Create(_scratch.Path, new ScoredRunSpec { Rows = 300, Shards = 2 });
        ReportPath = _scratch.File("report.html");
        Result = Cli.Run("report", Run.OutputFolder, "-o", ReportPath);
        if (Result.ExitCode == 0)
        {
            Document = ReportDocument.Load(ReportPath);
        }
    }

    internal GeneratedRun Run { get; }

    internal string ReportPath { get; }

    internal CliResult Result { get; }

    internal ReportDocument? Document { get; }

    internal string Scratch => _scratch.Path;

    public void Dispose() => _scratch.Dispose();
}

public sealed partial class ReportCommandTests(GeneratedReportFixture fixture, ITestOutputHelper output) : IClassFixture<GeneratedReportFixture>
{
    private ReportDocument Report
    {
        get
        {
            Assert.True(fixture.Result.ExitCode == 0, fixture.Result.ToString());
            return fixture.Document!;
        }
    }

    [Fact]
    public void The_summary_shows_the_runs_counts_models_and_provenance()
    {
        var summary = Report.Section("summary");
        var cards = summary.Descendants("div").Where(d => (string?)d.Attribute("class") is "card" or "card keep" or "card remove")
            .ToDictionary(card => card.Elements().Last().Value, card => card.Elements().First().Value);
        var rowsIn = fixture.Run.PlantedRows + fixture.Run.GeneratedRows + fixture.Run.BadLines;
        Assert.Equal(rowsIn.ToString("N0", CultureInfo.InvariantCulture), cards["rows in"]);
        Assert.Equal("3", cards["rejected (unreadable)"]);
        Assert.Equal("2", cards["shards"]);
        Assert.Contains(new string('a', 64), summary.Value, StringComparison.Ordinal);
        Assert.Contains("fill_compare_min<0", summary.Value, StringComparison.Ordinal);
        Assert.Contains("the policy in run.json", summary.Value, StringComparison.Ordinal);
        Assert.Contains("</pre><script>alert('config')</script>", summary.Descendants("pre").Single().Value, StringComparison.Ordinal);
        Assert.Contains("riverbed score", summary.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_score_has_a_histogram_of_its_bins_with_the_threshold_marked()
    {
        var stats = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Run.OutputFolder, "stats.json"))).RootElement.GetProperty("scores");
        foreach (var (score, bins, hasThreshold) in new[] { ("fill_compare_min", 40, true), ("fill_compare_mean", 40, false), ("replaced_entity_max", 20, true), ("contradiction_max", 20, true) })
        {
            var svg = Report.All("{http://www.w3.org/2000/svg}svg").Single(s => (string?)s.Attribute("data-score") == score);
            var bars = svg.Elements("{http://www.w3.org/2000/svg}rect").ToList();
            Assert.Equal(bins, bars.Count);
            Assert.Equal(stats.GetProperty(score).GetProperty("count").GetInt64(), bars.Sum(bar => long.Parse((string)bar.Attribute("data-count")!, CultureInfo.InvariantCulture)));
            Assert.Equal(hasThreshold, svg.Elements("{http://www.w3.org/2000/svg}line").Any(line => (string?)line.Attribute("class") == "threshold"));
        }
    }

    [Fact]
    public void Every_sampled_example_lies_in_its_bucket_and_bucket_counts_add_up_to_the_stats()
    {
        var stats = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Run.OutputFolder, "stats.json"))).RootElement.GetProperty("scores");
        foreach (var score in Riverbed.Scoring.ScoreNames.All)
        {
            var section = Report.Section("score-" + score);
            long counted = 0;
            var sampled = 0;
            var ranges = section.Descendants("details").Where(d => (string?)d.Attribute("data-bucket") == "Range").ToList();
            var lowest = ranges.Min(d => double.Parse((string)d.Attribute("data-low")!, CultureInfo.InvariantCulture));
            var highest = ranges.Max(d => double.Parse((string)d.Attribute("data-high")!, CultureInfo.InvariantCulture));
            foreach (var bucket in section.Descendants("details"))
            {
                var counts = CountsPattern().Match(bucket.Element("summary")!.Value);
                Assert.True(counts.Success, bucket.Element("summary")!.Value);
                var kind = (string)bucket.Attribute("data-bucket")!;
                if (kind != "Missing")
                {
                    counted += long.Parse(counts.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)
                        + long.Parse(counts.Groups[2].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
                }
                foreach (var example in bucket.Descendants("article"))
                {
                    sampled++;
                    var value = (string?)example.Attribute("data-value");
                    if (kind == "Missing")
                    {
                        Assert.Null(value);
                        continue;
                    }
                    var v = double.Parse(value!, CultureInfo.InvariantCulture);
                    var low = double.Parse((string)bucket.Attribute("data-low")!, CultureInfo.InvariantCulture);
                    var high = double.Parse((string)bucket.Attribute("data-high")!, CultureInfo.InvariantCulture);
                    // Range buckets are [low, high) with the two end ones open-ended (the histogram's end bins hold
                    // values beyond its range); the bands next to a threshold are checked closed at both ends.
                    var inside = kind == "Range"
                        ? (v >= low || low == lowest) && (v < high || high == highest)
                        : v >= low && v <= high;
                    Assert.True(inside, $"{score}: {v} outside [{low}, {high}] ({kind})");
                    var kept = example.Ancestors("div").First(d => ((string?)d.Attribute("class"))?.EndsWith("-side", StringComparison.Ordinal) == true);
                    Assert.Equal((string?)kept.Attribute("class") == "kept-side", ((string?)example.Attribute("class"))!.Contains("kept", StringComparison.Ordinal));
                }
            }
            Assert.Equal(stats.GetProperty(score).GetProperty("count").GetInt64(), counted);
            Assert.InRange(sampled, 1, 60);
        }
    }

    [Fact]
    public void The_band_just_past_a_threshold_is_sampled_first_and_holds_the_planted_rows()
    {
        var band = Report.Section("score-fill_compare_min").Descendants("details").First(d => (string?)d.Attribute("data-bucket") == "NearTriggered");
        Assert.Equal("open", (string?)band.Attribute("open"));
        // Side by side: the band the threshold keeps, then the band it removes.
        Assert.Equal(["NearNotTriggered", "NearTriggered"], band.Parent!.Elements("details").Select(d => (string?)d.Attribute("data-bucket")));
        var ids = band.Descendants("article").Select(a => (string?)a.Attribute("data-id")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { Planted.Hostile, Planted.KnownFlag, Planted.MultiByte, Planted.Overlapping }.Order(StringComparer.Ordinal), ids);
    }

    [Fact]
    public void A_flagged_fill_is_highlighted_with_its_replacement_and_score()
    {
        var example = Report.Examples(Planted.KnownFlag)[0];
        var mark = example.Descendants("mark").Single(m => (string?)m.Attribute("class") == "sp k-fill flagged");
        Assert.Equal("Paris", mark.Value);
        Assert.Equal("→ London −0.050", ((XElement)mark.NextNode!).Value);
        Assert.Contains("model's fill “London”", (string?)mark.Attribute("title"), StringComparison.Ordinal);
        var entities = example.Descendants("mark").Where(m => ((string?)m.Attribute("class"))!.Contains("k-entity", StringComparison.Ordinal)).Select(m => Strip(m).Value);
        Assert.Equal(["France", "Paris"], entities);
    }

    [Fact]
    public void Hostile_dataset_text_is_shown_as_text_and_cannot_inject()
    {
        Assert.Single(Report.All("script"));
        Assert.Empty(Report.All("img"));
        Assert.DoesNotContain(Report.All("b"), b => b.Ancestors("article").Any());
        Assert.DoesNotContain(Report.Root.DescendantsAndSelf().SelectMany(e => e.Attributes()), a => a.Name.LocalName.StartsWith("on", StringComparison.OrdinalIgnoreCase));
        var example = Report.Examples(Planted.Hostile)[0];
        var answer = Strip(example.Descendants("div").Single(d => (string?)d.Attribute("data-turn") == "1").Elements("div").Single(d => (string?)d.Attribute("class") == "text"));
        Assert.Equal(Planted.HostileText.Replace("\u0000", "[U+0000]", StringComparison.Ordinal).Replace("\u0007", "[U+0007]", StringComparison.Ordinal), answer.Value);
        var mark = example.Descendants("mark").Single(m => ((string?)m.Attribute("class"))!.Contains("k-fill", StringComparison.Ordinal));
        Assert.Equal("<script>", mark.Value);
        Assert.Contains(Planted.HostileReplacement, ((XElement)mark.NextNode!).Value, StringComparison.Ordinal);
        var policy = Report.All("meta").Single(m => (string?)m.Attribute("http-equiv") == "Content-Security-Policy");
        Assert.StartsWith("default-src 'none'; script-src 'sha256-", (string?)policy.Attribute("content"), StringComparison.Ordinal);
    }

    [Fact]
    public void Multi_byte_text_keeps_whole_characters_and_adjusted_spans_are_listed()
    {
        var example = Report.Examples(Planted.MultiByte)[0];
        var marks = example.Descendants("mark").Select(m => m.Value).ToList();
        Assert.Equal("😀", marks[0]);
        Assert.Contains("東京", marks);
        Assert.Contains("e\u0301", marks);
        Assert.Contains("👩\u200D👩", marks);
        Assert.Equal("😀", marks[^1].Length >= 2 ? marks[^1][^2..] : marks[^1]);
        var notes = example.Descendants("ul").Single().Value;
        Assert.Contains("splits a surrogate pair; widened", notes, StringComparison.Ordinal);
        Assert.Contains("lies outside the turn's", notes, StringComparison.Ordinal);
        Assert.Contains("ends before it starts", notes, StringComparison.Ordinal);
        Assert.Contains("refers to turn 7", notes, StringComparison.Ordinal);
    }

    [Fact]
    public void Crossing_spans_nest_and_contradiction_partners_share_a_pair_number()
    {
        var example = Report.Examples(Planted.Overlapping)[0];
        var sentences = example.Descendants("mark").Where(m => ((string?)m.Attribute("class"))!.Contains("k-contradiction", StringComparison.Ordinal)).ToList();
        Assert.All(sentences, m => Assert.Equal("1", (string?)m.Attribute("data-pair")));
        Assert.Equal(Planted.SentenceA + Planted.SentenceB, string.Concat(sentences.Select(m => Strip(m).Value)));
        Assert.Contains(example.Descendants("mark"), m => (string?)m.Attribute("data-piece") == "first");
        // The 5,000-character answer shows an excerpt from its first flagged span; the flagged "Seine" near its end is listed instead.
        Assert.Contains("characters after", example.Value, StringComparison.Ordinal);
        Assert.DoesNotContain("Seine", example.Descendants("mark").Select(m => m.Value));
        Assert.Contains("“Seine” lies in the part of this long turn that is not shown", example.Descendants("ul").Single().Value, StringComparison.Ordinal);
        Assert.Contains("… 1 turn not shown …", example.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_are_counted_by_kind_and_the_first_ones_listed_with_file_and_line()
    {
        var rejects = Report.Section("rejects");
        var rows = rejects.Descendants("tr").Where(tr => (string?)tr.Attribute("class") == "reject").ToList();
        Assert.Equal(3, rows.Count);
        var where = rows.Select(row => row.Elements("td").First().Element("code")!.Value).ToList();
        Assert.Equal(["part-001.jsonl:6", "part-001.jsonl:7", "part-001.jsonl:8"], where.Select(w => Path.GetFileName(w)));
        Assert.Contains("invalid_json", rejects.Value, StringComparison.Ordinal);
        Assert.Contains("no_bot_turn", rejects.Value, StringComparison.Ordinal);
        Assert.Contains("not json at all <script>", rejects.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_run_gives_the_same_report_and_another_seed_another_sample()
    {
        var again = Path.Combine(fixture.Scratch, "again.html");
        var reseeded = Path.Combine(fixture.Scratch, "reseeded.html");
        Assert.Equal(0, Cli.Run("report", fixture.Run.OutputFolder, "-o", again).ExitCode);
        Assert.Equal(0, Cli.Run("report", fixture.Run.OutputFolder, "-o", reseeded, "--seed", "other").ExitCode);
        Assert.Equal(File.ReadAllBytes(fixture.ReportPath), File.ReadAllBytes(again));
        static List<string?> RangeIds(ReportDocument document) =>
            document.All("details").Where(d => (string?)d.Attribute("data-bucket") == "Range").SelectMany(d => d.Descendants("article"))
                .Select(a => (string?)a.Attribute("data-id")).ToList();
        Assert.NotEqual(RangeIds(Report), RangeIds(ReportDocument.Load(reseeded)));
    }

    [Fact]
    public void Json_lines_and_split_outputs_are_reported_alike()
    {
        foreach (var spec in new[] { new ScoredRunSpec { Rows = 120, Format = OutputFormat.JsonLines }, new ScoredRunSpec { Rows = 120, Split = true } })
        {
            using var scratch = new ScratchFolder("report-format");
            var run = ScoredRunGenerator.Create(scratch.Path, spec);
            var path = scratch.File("r.html");
            var result = Cli.Run("report", run.OutputFolder, "-o", path);
            Assert.True(result.ExitCode == 0, result.ToString());
            var document = ReportDocument.Load(path);
            Assert.NotEmpty(document.Examples(Planted.KnownFlag));
            Assert.NotEmpty(document.Examples(Planted.MultiByte));
            var mark = document.Examples(Planted.KnownFlag)[0].Descendants("mark").Single(m => (string?)m.Attribute("class") == "sp k-fill flagged");
            Assert.Equal("→ London −0.050", ((XElement)mark.NextNode!).Value);
            Assert.Equal(3, document.Section("rejects").Descendants("tr").Count(tr => (string?)tr.Attribute("class") == "reject"));
        }
    }

    [Fact]
    public void A_large_run_gives_a_small_report_from_stats_and_samples()
    {
        using var scratch = new ScratchFolder("report-large");
        var generation = Stopwatch.StartNew();
        var run = ScoredRunGenerator.Create(scratch.Path, new ScoredRunSpec { Rows = 20_000, Shards = 4 });
        output.WriteLine($"generated 20,000 scored rows in {generation.Elapsed.TotalSeconds:N1} s");
        var path = scratch.File("large.html");
        var timer = Stopwatch.StartNew();
        var result = Cli.Run("report", run.OutputFolder, "-o", path);
        output.WriteLine($"report in {timer.Elapsed.TotalSeconds:N1} s (process included): {result.StandardOutput.Trim()}");
        Assert.True(result.ExitCode == 0, result.ToString());
        var document = ReportDocument.Load(path);
        output.WriteLine($"{document.Bytes:N0} bytes, {document.All("article").Count()} example cards");
        Assert.InRange(document.Bytes, 20_000, 3 * 1024 * 1024);
        Assert.InRange(document.All("article").Count(), 40, 240);
        Assert.Equal("20,007", document.Section("summary").Descendants("div").First(d => (string?)d.Attribute("class") == "v").Value);
    }

    [Fact]
    public void Missing_stats_json_is_rebuilt_from_shard_stats_and_a_missing_run_json_is_noted()
    {
        using var scratch = new ScratchFolder("report-partial");
        var run = ScoredRunGenerator.Create(scratch.Path, new ScoredRunSpec { Rows = 60, WriteRootStats = false, WriteRunJson = false });
        var path = scratch.File("r.html");
        var result = Cli.Run("report", run.OutputFolder, "-o", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("merged from 2 shard stats", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("No run.json", result.StandardOutput, StringComparison.Ordinal);
        var document = ReportDocument.Load(path);
        Assert.Contains("the removal reasons in the stats", document.Section("summary").Value, StringComparison.Ordinal);
        Assert.NotEmpty(document.Examples(Planted.KnownFlag));
    }

    [Fact]
    public void Shards_without_a_valid_manifest_are_left_out_and_said_so()
    {
        using var scratch = new ScratchFolder("report-uncommitted");
        var run = ScoredRunGenerator.Create(scratch.Path, new ScoredRunSpec { Rows = 60 });
        File.Delete(Path.Combine(run.OutputFolder, "part-000.manifest.json"));
        var path = scratch.File("r.html");
        var result = Cli.Run("report", run.OutputFolder, "-o", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("1 data file(s) have no manifest", result.StandardOutput, StringComparison.Ordinal);
        var document = ReportDocument.Load(path);
        Assert.Empty(document.Examples(Planted.KnownFlag));
        Assert.All(document.All("article"), a => Assert.Equal("part-001.jsonl", (string?)a.Attribute("data-source")));
    }

    [Fact]
    public void A_folder_that_is_not_a_scored_run_is_refused_with_what_to_give()
    {
        using var scratch = new ScratchFolder("report-bad");
        var missing = Cli.Run("report", scratch.File("nope"), "-o", scratch.File("r.html"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("does not exist; give the output folder of `riverbed score`", missing.StandardError, StringComparison.Ordinal);

        File.WriteAllText(scratch.File("in.jsonl"), "{\"id\": \"a\", \"instruction\": \"q\", \"output\": \"a\"}\n");
        Assert.Equal(0, Cli.Run("convert", scratch.File("in.jsonl"), "-o", scratch.File("converted")).ExitCode);
        var converted = Cli.Run("report", scratch.File("converted"), "-o", scratch.File("r.html"));
        Assert.Equal(1, converted.ExitCode);
        Assert.Contains("no stats.json", converted.StandardError, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(scratch.File("converted"), "stats.json"), "{\"format\": \"riverbed-stats/1\", \"shards\": 1}");
        var badStats = Cli.Run("report", scratch.File("converted"), "-o", scratch.File("r.html"));
        Assert.Equal(1, badStats.ExitCode);
        Assert.Contains("stats.json: not a readable riverbed-stats/1 file", badStats.StandardError, StringComparison.Ordinal);

        var toFolder = Cli.Run("report", fixture.Run.OutputFolder, "-o", scratch.Path);
        Assert.Equal(1, toFolder.ExitCode);
        Assert.Contains("is a folder; give the HTML file to write", toFolder.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(scratch.File("r.html")));
    }

    /// <summary>A copy without the inline notes, i.e. only the dialogue's own text.</summary>
    private static XElement Strip(XElement element)
    {
        var copy = new XElement(element);
        copy.Descendants("span").Where(s => ((string?)s.Attribute("class"))?.StartsWith("note", StringComparison.Ordinal) == true).Remove();
        return copy;
    }

    [GeneratedRegex(@"([\d,]+) kept · ([\d,]+) removed")]
    private static partial Regex CountsPattern();
}
