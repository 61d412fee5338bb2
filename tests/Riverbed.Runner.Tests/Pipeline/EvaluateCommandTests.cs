using System.Globalization;
using System.Text.Json;
using static Riverbed.Runner.Tests.Pipeline.ScoredOutput;

namespace Riverbed.Runner.Tests.Pipeline;

/// <summary>
/// <c>riverbed evaluate</c> on a scored HaluEval sample (the NLI oracle calls sentence pairs mentioning "time"
/// contradictory) with HaluEval's own labels: the file it writes, checked against metrics computed here independently.
/// </summary>
[Trait("Category", "Slow")]
[Collection(PipelineModels.Collection)]
public sealed class EvaluateCommandTests(PipelineModels models) : IDisposable
{
    private const int Rows = 120;

    private readonly ScratchFolder _scratch = new("evaluate");

    private static string HaluEval => TestPaths.Fixture("datasets", "halueval", "general_data.json");

    private string Scored()
    {
        var output = _scratch.File("scored");
        if (!File.Exists(Path.Combine(output, "run.json")))
        {
            var run = Cli.Run("score", HaluEval, "--models", models.NliOnly, "--output", output, "--limit", Rows.ToString(CultureInfo.InvariantCulture),
                "--format", "jsonl", "--batch-tokens", "512");
            Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        }
        return output;
    }

    private static List<JsonElement> ScoredRows(string output) => ScoredOutput.Rows(Path.Combine(output, "general_data.jsonl"));

    [Fact]
    public void Evaluate_writes_calibration_json_whose_auc_equals_an_independent_computation()
    {
        var scored = Scored();
        var result = Cli.Run("evaluate", scored, "--labels", "hallucination", "--label-spans", "hallucination_spans", "--target", "recall=0.5",
            "--bootstrap", "200");
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("contradiction_max: ROC-AUC", result.StandardOutput, StringComparison.Ordinal);
        var calibration = Json(Path.Combine(scored, "calibration.json"));

        // Independently: every (hallucinated, correct) pair of rows that have the score, ties counting half.
        var rows = ScoredRows(scored);
        var labelled = rows.Select(r => (Score: Score(r, "contradiction_max"), Bad: r.GetProperty("hallucination").GetString() == "yes"))
            .Where(r => r.Score is not null).ToList();
        double wins = 0;
        var bad = labelled.Where(r => r.Bad).ToList();
        var good = labelled.Where(r => !r.Bad).ToList();
        Assert.NotEmpty(bad);
        Assert.NotEmpty(good);
        foreach (var b in bad)
        {
            foreach (var g in good)
            {
                wins += b.Score > g.Score ? 1 : b.Score == g.Score ? 0.5 : 0;
            }
        }
        var contradiction = calibration.GetProperty("scores").EnumerateArray().Single(s => s.GetProperty("score").GetString() == "contradiction_max");
        Assert.Equal(wins / (bad.Count * good.Count), contradiction.GetProperty("roc_auc").GetProperty("value").GetDouble(), 9);
        Assert.Equal(labelled.Count, contradiction.GetProperty("examples").GetInt64());
        Assert.Equal(Rows - labelled.Count, contradiction.GetProperty("without_score").GetInt64());

        // Precision and recall at the run's threshold (contradiction_max > 0.5), counted by hand.
        var at = contradiction.GetProperty("at_threshold");
        var removedBad = bad.Count(r => r.Score > 0.5);
        var removed = labelled.Count(r => r.Score > 0.5);
        Assert.Equal(removed, at.GetProperty("removed").GetInt64());
        Assert.Equal((double)removedBad / bad.Count, at.GetProperty("recall").GetProperty("value").GetDouble(), 12);
        var coverage = calibration.GetProperty("coverage");
        Assert.Equal(Rows, coverage.GetProperty("labelled").GetInt64());
        Assert.Equal(rows.Count(r => r.GetProperty("hallucination").GetString() == "yes"), coverage.GetProperty("positive").GetInt64());
        Assert.Equal(JsonValueKind.Array, contradiction.GetProperty("roc").ValueKind);
        Assert.Contains(calibration.GetProperty("spans").EnumerateArray(), s => s.GetProperty("kind").GetString() == "contradiction");
    }

    [Fact]
    public void Labels_from_a_file_count_and_list_unlabelled_rows_and_unknown_ids_without_guessing()
    {
        var scored = Scored();
        var rows = ScoredRows(scored);
        var labels = _scratch.File("labels.csv");
        var lines = new List<string> { "id,label" };
        lines.AddRange(rows.Skip(3).Select(r => $"\"{r.GetProperty("riverbed_id").GetString()}\",{r.GetProperty("hallucination").GetString()}"));
        lines.Add("no-such-id,yes");
        lines.Add($"\"{rows[0].GetProperty("riverbed_id").GetString()}\",maybe");
        File.WriteAllLines(labels, lines);
        var output = _scratch.File("from-file.json");
        var result = Cli.Run("evaluate", scored, "--labels", labels, "--output", output, "--bootstrap", "0");
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var coverage = Json(output).GetProperty("coverage");
        Assert.Equal(Rows - 3, coverage.GetProperty("labelled").GetInt64());
        Assert.Equal(3, coverage.GetProperty("unlabelled").GetInt64());
        Assert.Equal(1, coverage.GetProperty("unknown_ids").GetInt64());
        Assert.Equal(["no-such-id"], Strings(coverage.GetProperty("unknown_sample")));
        Assert.Equal(1, coverage.GetProperty("unreadable_labels").GetInt64());
        Assert.Equal(rows.Take(3).Select(r => r.GetProperty("riverbed_id").GetString()!), Strings(coverage.GetProperty("unlabelled_sample")));
    }

    [Fact]
    public void Labels_all_of_one_class_are_refused_with_a_clear_message()
    {
        var scored = Scored();
        var labels = _scratch.File("all-no.jsonl");
        File.WriteAllLines(labels, ScoredRows(scored).Select(r => JsonSerializer.Serialize(new { id = r.GetProperty("riverbed_id").GetString(), label = "no" })));
        var result = Cli.Run("evaluate", scored, "--labels", labels, "--output", _scratch.File("never.json"));
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains($"all {Rows} labelled example(s) are negative (keep): calibration needs examples of both labels", result.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_scratch.File("never.json")));
    }

    [Fact]
    public void Filter_with_a_calibration_applies_its_recommended_threshold()
    {
        var scored = Scored();
        var calibrationFile = _scratch.File("for-filter.json");
        var evaluate = Cli.Run("evaluate", scored, "--labels", "hallucination", "--output", calibrationFile, "--bootstrap", "0");
        Assert.True(evaluate.ExitCode == ExitCodes.Success, evaluate.ToString());
        var recommended = Json(calibrationFile).GetProperty("scores").EnumerateArray()
            .Single(s => s.GetProperty("score").GetString() == "contradiction_max").GetProperty("recommended").GetString()!;
        var output = _scratch.File("filtered");
        var filter = Cli.Run("filter", scored, "--output", output, "--calibration", calibrationFile, "--format", "jsonl");
        Assert.True(filter.ExitCode == ExitCodes.Success, filter.ToString());
        Assert.Contains(recommended, filter.StandardOutput, StringComparison.Ordinal);
        var cut = double.Parse(recommended["contradiction_max>".Length..], CultureInfo.InvariantCulture);
        var expectedRemoved = ScoredRows(scored).Count(r => Score(r, "contradiction_max") > cut);
        Assert.Equal(expectedRemoved, Json(Path.Combine(output, "stats.json")).GetProperty("removed").GetInt32());
    }

    [Fact]
    public void The_report_draws_the_curves_with_its_operating_point_and_counts_kept_and_removed_per_source()
    {
        var scored = Scored();
        var evaluate = Cli.Run("evaluate", scored, "--labels", "hallucination", "--bootstrap", "50");
        Assert.True(evaluate.ExitCode == ExitCodes.Success, evaluate.ToString());
        var html = _scratch.File("report.html");
        var report = Cli.Run("report", scored, "-o", html, "--threshold", "contradiction_max=0.7", "--combine", "all");
        Assert.True(report.ExitCode == ExitCodes.Success, report.ToString());
        var document = Riverbed.Runner.Tests.Report.ReportDocument.Load(html);

        var summary = document.Section("summary").Value;
        Assert.Contains("remove when contradiction_max>0.7", summary, StringComparison.Ordinal);
        Assert.Contains("only when all thresholds trigger", summary, StringComparison.Ordinal);
        var calibration = document.Section("calibration");
        var curves = calibration.Descendants().Where(e => e.Name.LocalName == "svg" && ((string?)e.Attribute("class"))?.StartsWith("curve", StringComparison.Ordinal) == true).ToList();
        Assert.Contains(curves, c => (string?)c.Attribute("class") == "curve roc" && c.Descendants().Any(e => e.Name.LocalName == "circle" && (string?)e.Attribute("class") == "operating"));
        Assert.Contains(curves, c => (string?)c.Attribute("class") == "curve pr" && c.Descendants().Any(e => e.Name.LocalName == "polyline"));

        var source = Assert.Single(Json(Path.Combine(scored, "stats.json")).GetProperty("sources").EnumerateObject());
        Assert.Equal("general_data.json", source.Name);
        var stats = source.Value;
        var row = document.Section("shards").Descendants("tr").Single(tr => (string?)tr.Attribute("data-source") == source.Name);
        var cells = row.Elements("td").Select(td => td.Value).ToList();
        Assert.Equal(stats.GetProperty("kept").GetInt64().ToString("N0", CultureInfo.InvariantCulture), cells[2]);
        Assert.Equal(stats.GetProperty("removed").GetInt64().ToString("N0", CultureInfo.InvariantCulture), cells[3]);
        Assert.Equal(Rows, stats.GetProperty("rows_in").GetInt64());
    }

    public void Dispose() => _scratch.Dispose();
}
