using System.Text.Json;
using Riverbed.Scoring;
using static Riverbed.Runner.Tests.Pipeline.ScoredOutput;

namespace Riverbed.Runner.Tests.Pipeline;

/// <summary>
/// <c>riverbed score</c> end to end on a real dataset with an oracle model whose verdicts follow from the text, so
/// every count, decision and span can be checked against the input itself.
/// </summary>
[Collection(PipelineModels.Collection)]
public sealed class ScoreCommandTests(PipelineModels models)
{
    [Fact]
    public void Exactly_the_answers_with_a_sentence_mentioning_the_trigger_are_removed_with_spans_on_those_sentences()
    {
        var run = models.AlpacaRun;
        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        var rows = Rows(Path.Combine(models.AlpacaOutput, "alpaca_data_first2000.jsonl"));
        var records = PipelineModels.AlpacaRecords();
        Assert.Equal(PipelineModels.AlpacaRows, rows.Count);

        var removed = 0;
        var checkedExactly = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var answer = records[i].GetProperty("output").GetString()!;
            Assert.Equal(i, row.GetProperty("riverbed_row").GetInt64());
            Assert.Equal(answer, row.GetProperty("riverbed_turns")[1].GetProperty("text").GetString());
            Assert.Equal(["fill_compare: no mlm model", "replaced_entity: no rtd model"], Strings(row.GetProperty("riverbed_skipped")));
            Assert.Null(Score(row, ScoreNames.FillCompareMin));
            Assert.Null(Score(row, ScoreNames.ReplacedEntityMax));

            var sentences = SentenceSplitter.Split(answer).Select(r => answer[r]).ToList();
            var mentions = sentences.Any(models.MentionsTrigger);
            var decision = row.GetProperty("riverbed_decision").GetString();
            removed += decision == "remove" ? 1 : 0;
            var contradiction = Score(row, ScoreNames.ContradictionMax);
            if (sentences.Count < 2)
            {
                Assert.Null(contradiction);
                Assert.Equal("keep", decision);
                continue;
            }
            // With at most 8 sentences all 28 pairs fit the default cap of 32, so a mention is always compared.
            if (sentences.Count <= 8)
            {
                checkedExactly++;
                Assert.Equal(mentions ? PipelineModels.TriggerContradiction : PipelineModels.DefaultContradiction, contradiction!.Value, 1e-6);
                Assert.Equal(mentions ? "remove" : "keep", decision);
                Assert.Equal(mentions ? ["contradiction_max>0.5"] : [], Strings(row.GetProperty("riverbed_reasons")));
            }
            foreach (var span in row.GetProperty("riverbed_spans").EnumerateArray())
            {
                Assert.Equal("contradiction", span.GetProperty("kind").GetString());
                Assert.Equal(1, span.GetProperty("turn").GetInt32());
                var text = answer[span.GetProperty("start").GetInt32()..span.GetProperty("end").GetInt32()];
                Assert.Equal(text, span.GetProperty("original").GetString());
                Assert.Contains(text, sentences);
                Assert.Equal(span.GetProperty("score").GetDouble() > 0.5, span.GetProperty("flagged").GetBoolean());
            }
            // Every flagged pair has the trigger in one of its two sentences.
            foreach (var pair in row.GetProperty("riverbed_spans").EnumerateArray().Where(s => s.GetProperty("flagged").GetBoolean())
                .GroupBy(s => s.GetProperty("pair").GetInt32()))
            {
                Assert.Equal(2, pair.Count());
                Assert.Contains(pair, s => models.MentionsTrigger(s.GetProperty("original").GetString()!));
            }
        }
        Assert.InRange(removed, 3, PipelineModels.AlpacaRows - 10);
        Assert.True(checkedExactly >= 30, $"only {checkedExactly} rows had 2–8 sentences");
        Assert.Contains("no mlm model: fill-and-compare is skipped", run.StandardOutput, StringComparison.Ordinal);

        var stats = Json(Path.Combine(models.AlpacaOutput, "stats.json"));
        Assert.Equal("riverbed-stats/1", stats.GetProperty("format").GetString());
        Assert.Equal((60, 60 - removed, removed), (stats.GetProperty("rows_in").GetInt32(), stats.GetProperty("kept").GetInt32(), stats.GetProperty("removed").GetInt32()));
        Assert.Equal(removed, stats.GetProperty("removed_by_reason").GetProperty("contradiction_max>0.5").GetInt32());
        Assert.Equal(rows.Sum(r => r.GetProperty("riverbed_spans").GetArrayLength()) / 2, stats.GetProperty("sentence_pairs").GetInt32());
        Assert.True(stats.GetProperty("tokens").GetProperty("nli").GetInt64() > 0);
        Assert.Equal(0, stats.GetProperty("tokens").GetProperty("mlm").GetInt64());
    }

    [Fact]
    public void Run_json_records_the_configuration_its_hash_the_model_digests_and_the_throughput()
    {
        var run = Json(Path.Combine(models.AlpacaOutput, "run.json"));
        var manifest = Json(Path.Combine(models.AlpacaOutput, "alpaca_data_first2000.manifest.json"));
        Assert.Equal("riverbed-run/1", run.GetProperty("format").GetString());
        Assert.Equal(manifest.GetProperty("config_hash").GetString(), run.GetProperty("config_hash").GetString());
        Assert.Equal(64, run.GetProperty("config_hash").GetString()!.Length);
        var config = run.GetProperty("config");
        Assert.Equal(PipelineModels.AlpacaRows, config.GetProperty("limit").GetInt32());
        Assert.Equal("any", config.GetProperty("policy").GetProperty("combine").GetString());
        Assert.Equal(512, config.GetProperty("execution").GetProperty("batch_tokens").GetInt32());
        var nli = run.GetProperty("models").GetProperty("nli").GetProperty("files");
        Assert.Equal(Sha256(Path.Combine(models.NliOnly, "nli", "model.onnx")), nli.GetProperty("model.onnx").GetProperty("sha256").GetString());
        Assert.True(run.GetProperty("throughput").GetProperty("examples").GetInt32() == PipelineModels.AlpacaRows);
        Assert.Equal(["score", PipelineModels.Alpaca], run.GetProperty("command_line").EnumerateArray().Take(2).Select(e => e.GetString()));
        Assert.Contains(manifest.GetProperty("attachments").EnumerateArray(), a => a.GetProperty("path").GetString() == "alpaca_data_first2000.stats.json");
    }

    [Fact]
    public void A_rerun_skips_complete_shards_and_a_changed_configuration_is_refused_with_a_way_out()
    {
        using var scratch = new ScratchFolder("score-rerun");
        var output = scratch.File("out");
        CopyFolder(models.AlpacaOutput, output);
        string[] same = ["score", PipelineModels.Alpaca, "--models", models.NliOnly, "--output", output, "--limit", "60", "--format", "jsonl"];

        // Execution settings (batch size, sessions) do not change outputs, so they are not part of the configuration.
        var rerun = Cli.Run([.. same, "--batch-tokens", "64", "--sessions", "2"]);
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        Assert.Contains("skipped, already complete", rerun.StandardOutput, StringComparison.Ordinal);

        var fromConfig = Cli.Run("score", PipelineModels.Alpaca, "--output", output, "--config", Path.Combine(models.AlpacaOutput, "run.json"));
        Assert.True(fromConfig.ExitCode == ExitCodes.Success, fromConfig.ToString());
        Assert.Contains("skipped, already complete", fromConfig.StandardOutput, StringComparison.Ordinal);

        var drifted = Cli.Run([.. same, "--seed", "7"]);
        Assert.Equal(ExitCodes.Failure, drifted.ExitCode);
        Assert.Contains("made with another configuration", drifted.StandardError, StringComparison.Ordinal);
        Assert.Contains("--config", drifted.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", drifted.StandardError, StringComparison.Ordinal);
        Assert.Contains("scoring.seed: 0 → 7", drifted.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_rerun_names_the_settings_that_differ_instead_of_two_hashes()
    {
        using var scratch = new ScratchFolder("score-differ");
        var output = scratch.File("out");
        CopyFolder(models.AlpacaOutput, output);
        var drifted = Cli.Run("score", PipelineModels.Alpaca, "--models", models.NliOnly, "--output", output, "--format", "jsonl");
        Assert.Equal(ExitCodes.Failure, drifted.ExitCode);
        Assert.Contains($"limit: {PipelineModels.AlpacaRows} → none", drifted.StandardError, StringComparison.Ordinal);
        var run = Json(Path.Combine(models.AlpacaOutput, "run.json"));
        Assert.DoesNotContain(run.GetProperty("config_hash").GetString()!, drifted.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rerun_with_other_thresholds_re_decides_instead_of_being_refused()
    {
        using var scratch = new ScratchFolder("score-redecide");
        var output = scratch.File("out");
        CopyFolder(models.AlpacaOutput, output);
        string[] same = ["score", PipelineModels.Alpaca, "--models", models.NliOnly, "--output", output, "--limit", PipelineModels.AlpacaRows.ToString(System.Globalization.CultureInfo.InvariantCulture), "--format", "jsonl"];
        Assert.Contains(Rows(Path.Combine(output, "alpaca_data_first2000.jsonl")), row => row.GetProperty("riverbed_decision").GetString() == "remove");

        var lenient = Cli.Run([.. same, "--threshold", "contradiction_max=off"]);
        Assert.True(lenient.ExitCode == ExitCodes.Success, lenient.ToString());
        Assert.Contains("redone (its rows were decided with any(fill_compare_min<0, replaced_entity_max>0.5, contradiction_max>0.5), " +
            "this run decides with any(fill_compare_min<0, replaced_entity_max>0.5))", lenient.StandardOutput, StringComparison.Ordinal);
        Assert.All(Rows(Path.Combine(output, "alpaca_data_first2000.jsonl")), row => Assert.Equal("keep", row.GetProperty("riverbed_decision").GetString()));
        Assert.Equal(Json(Path.Combine(models.AlpacaOutput, "run.json")).GetProperty("config_hash").GetString(),
            Json(Path.Combine(output, "run.json")).GetProperty("config_hash").GetString());

        var again = Cli.Run([.. same, "--threshold", "contradiction_max=off"]);
        Assert.True(again.ExitCode == ExitCodes.Success, again.ToString());
        Assert.Contains("skipped, already complete", again.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    // A value that cannot be read is a usage error (exit 2, while parsing); settings that read but contradict each
    // other are found when the policy is built (exit 1). Either way the message says what is wrong.
    [InlineData(new[] { "--threshold", "contradiction_max=0.9", "--threshold", "contradiction_max=off" }, "contradiction_max is given twice", ExitCodes.Usage)]
    [InlineData(new[] { "--combine", "any:fluency" }, "unknown score 'fluency'", ExitCodes.Usage)]
    [InlineData(new[] { "--threshold", "contradiction_max=off", "--combine", "all:contradiction_max" }, "names contradiction_max, which has no threshold", ExitCodes.Failure)]
    public void Bad_decision_options_are_refused_with_clear_messages(string[] options, string message, int exitCode)
    {
        using var scratch = new ScratchFolder("score-bad-decisions");
        var result = Cli.Run(["score", PipelineModels.Jokes, "--output", scratch.File("out"), .. options]);
        Assert.Equal(exitCode, result.ExitCode);
        Assert.Contains(message, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void An_example_too_long_to_tokenize_is_kept_as_a_failure_and_the_shard_commits()
    {
        using var scratch = new ScratchFolder("score-giant");
        var input = scratch.File("giant.jsonl");
        var giant = string.Join(' ', Enumerable.Repeat("word", 300_000));
        File.WriteAllLines(input,
        [
            JsonSerializer.Serialize(new { instruction = "Say hi.", output = "Hi there. It is a fine time." }),
            JsonSerializer.Serialize(new { instruction = "Say a lot.", output = giant }),
            JsonSerializer.Serialize(new { instruction = "Say bye.", output = "Bye now." }),
        ]);
        var output = scratch.File("out");
        // The demo models: fill-and-compare and replaced-token detection tokenize whole turns.
        var result = Cli.Run("score", input, "--models", PipelineModels.Demo, "--output", output, "--format", "jsonl");
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var manifest = Json(Path.Combine(output, "giant.manifest.json"));
        Assert.Equal((3, 2, 0, 1), (manifest.GetProperty("rows_in").GetInt32(), manifest.GetProperty("rows_out").GetInt32(),
            manifest.GetProperty("rows_rejected").GetInt32(), manifest.GetProperty("rows_failed").GetInt32()));
        var failure = Json(Path.Combine(output, "giant.failures.jsonl"));
        Assert.Equal(1, failure.GetProperty("row").GetInt32());
        Assert.Equal("tokenization", failure.GetProperty("kind").GetString());
        Assert.Equal([0L, 2L], Rows(Path.Combine(output, "giant.jsonl")).Select(r => r.GetProperty("riverbed_row").GetInt64()));
        Assert.Equal(1, Json(Path.Combine(output, "giant.stats.json")).GetProperty("rows_failed").GetInt32());
    }

    [Fact]
    public void Bad_arguments_are_refused_with_clear_messages()
    {
        using var scratch = new ScratchFolder("score-args");
        var missing = Cli.Run("score", PipelineModels.Jokes, "--output", scratch.File("out"), "--models", scratch.File("nowhere"));
        Assert.Equal(ExitCodes.Failure, missing.ExitCode);
        Assert.Contains("models folder not found", missing.StandardError, StringComparison.Ordinal);
        var threshold = Cli.Run("score", PipelineModels.Jokes, "--output", scratch.File("out"), "--threshold", "fluency=3");
        Assert.Equal(ExitCodes.Usage, threshold.ExitCode);
        Assert.Contains("unknown score 'fluency'", threshold.StandardError, StringComparison.Ordinal);
        var device = Cli.Run("score", PipelineModels.Jokes, "--output", scratch.File("out"), "--device", "tpu");
        Assert.Equal(ExitCodes.Usage, device.ExitCode);
    }

    internal static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            File.SetLastWriteTimeUtc(target, File.GetLastWriteTimeUtc(file));
        }
    }
}
