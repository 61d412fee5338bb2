using System.Globalization;
using System.Text.Json;
using Riverbed.Scoring;
using static Riverbed.Runner.Tests.Pipeline.ScoredOutput;

namespace Riverbed.Runner.Tests.Pipeline;

/// <summary>
/// <c>riverbed score</c> with the RIVERBED_FAULT_OOM test hook, in child processes: injected allocation failures are
/// absorbed by halving and retrying, a poison request fails only its example, the failure budget fails the shard with
/// exit 3, and a model that fails every run stops the run with exit 1. The NLI oracle and the first Alpaca rows are
/// the shared run of <see cref="PipelineModels"/>, so the faulted runs compare against it.
/// </summary>
[Trait("Category", "Process")]
[Collection(PipelineModels.Collection)]
public sealed class InferenceFaultCommandTests(PipelineModels models)
{
    /// <summary>A word of two multi-sentence answers among the first Alpaca rows (rows 4 and 53).</summary>
    private const string Poison = "climate";

    private const string Shard = "alpaca_data_first2000";

    [Fact]
    public void Injected_allocation_failures_change_no_row_and_are_counted_in_the_summary_and_run_json()
    {
        using var scratch = new ScratchFolder("inference-fault-cli");
        var output = scratch.File("out");
        // The plan fails only a request's first 2 attempts (drawn from its tokens, not from how batches formed), and a
        // request gets 3 alone: nothing can be quarantined however the runs are scheduled (see InferenceFaultPlan).
        var run = ScoreWithFaults(output, "p=0.1,seed=3");

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        var expected = Rows(Path.Combine(models.AlpacaOutput, Shard + ".jsonl"));
        var actual = Rows(Path.Combine(output, Shard + ".jsonl"));
        Assert.Equal(expected.Select(RowId), actual.Select(RowId));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].GetProperty("riverbed_decision").GetString(), actual[i].GetProperty("riverbed_decision").GetString());
            var (e, a) = (Score(expected[i], ScoreNames.ContradictionMax), Score(actual[i], ScoreNames.ContradictionMax));
            Assert.Equal(e.HasValue, a.HasValue);
            Assert.Equal(e ?? 0, a ?? 0, 1e-6);
        }
        var nli = Json(Path.Combine(output, "run.json")).GetProperty("batching").GetProperty("nli");
        var failedRuns = nli.GetProperty("failed_runs").GetInt64();
        Assert.True(failedRuns > 0, run.StandardOutput);
        Assert.Equal(failedRuns, nli.GetProperty("allocation_failures").GetInt64());
        Assert.True(nli.GetProperty("splits").GetInt64() + nli.GetProperty("retries").GetInt64() > 0, nli.ToString());
        Assert.Equal(0, nli.GetProperty("quarantined").GetInt64());
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"; {failedRuns:N0} failed runs ({failedRuns:N0} out of memory): "), run.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, Json(Path.Combine(output, "stats.json")).GetProperty("rows_failed").GetInt64());
    }

    [Fact]
    public void A_poison_request_fails_only_its_examples_under_the_budget_and_the_shard_fails_with_exit_3_over_it()
    {
        using var scratch = new ScratchFolder("inference-fault-cli");
        var records = PipelineModels.AlpacaRecords();
        var expectedFailed = Enumerable.Range(0, records.Count).Where(row =>
        {
            var answer = records[row].GetProperty("output").GetString()!;
            var sentences = SentenceSplitter.Split(answer).Select(range => answer[range]).ToList();
            return sentences.Count >= 2 && sentences.Any(sentence => models.Tokenizer.Encode(sentence).Ids.Contains(models.Tokenizer.TokenToId(Poison)!.Value));
        }).ToList();
        Assert.NotEmpty(expectedFailed);

        var output = scratch.File("under");
        var under = ScoreWithFaults(output, $"word={Poison}");
        Assert.True(under.ExitCode == ExitCodes.Success, under.ToString());
        var failures = Rows(Path.Combine(output, Shard + ".failures.jsonl"));
        Assert.Equal(expectedFailed.Select(row => (long)row), failures.Select(f => f.GetProperty("row").GetInt64()));
        Assert.All(failures, f =>
        {
            Assert.Equal($"{Shard}.json#{f.GetProperty("row").GetInt64()}", f.GetProperty("id").GetString());
            Assert.Equal("inference_oom", f.GetProperty("kind").GetString());
            Assert.StartsWith("the nli model failed on a request of ", f.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Contains("run alone (3 attempts): running '", f.GetProperty("message").GetString(), StringComparison.Ordinal);
        });
        var stats = Json(Path.Combine(output, "stats.json"));
        Assert.Equal((long)PipelineModels.AlpacaRows, stats.GetProperty("rows_in").GetInt64());
        Assert.Equal(expectedFailed.Count, stats.GetProperty("rows_failed").GetInt64());
        Assert.Equal(PipelineModels.AlpacaRows - expectedFailed.Count, Rows(Path.Combine(output, Shard + ".jsonl")).Count);
        Assert.True(Json(Path.Combine(output, "run.json")).GetProperty("batching").GetProperty("nli").GetProperty("quarantined").GetInt64() >= expectedFailed.Count);

        var overOutput = scratch.File("over");
        var over = ScoreWithFaults(overOutput, $"word={Poison}", "--max-failures", "0");
        Assert.True(over.ExitCode == ExitCodes.PartialFailure, over.ToString());
        Assert.Contains($"{Shard}.json: FAILED: ", over.StandardError, StringComparison.Ordinal);
        Assert.Contains("1 failed rows in its first", over.StandardError, StringComparison.Ordinal);
        Assert.Contains("exceed the failure budget (--max-failures 0: 0 allowed), so the shard was stopped and nothing of it committed", over.StandardError, StringComparison.Ordinal);
        Assert.Contains("1 shard(s) failed", over.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(overOutput, Shard + "*"));
        Assert.Equal(1, Json(Path.Combine(overOutput, "run.json")).GetProperty("shards").GetProperty("failed").GetInt32());

        // A rerun with the default budget completes the shard where the failed run left nothing.
        var rerun = ScoreWithFaults(overOutput, $"word={Poison}");
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        Assert.Equal(expectedFailed.Count, Json(Path.Combine(overOutput, "stats.json")).GetProperty("rows_failed").GetInt64());
    }

    [Fact]
    public void A_model_failing_every_run_stops_the_run_with_exit_1_and_the_cause()
    {
        using var scratch = new ScratchFolder("inference-fault-cli");
        var run = ScoreWithFaults(scratch.File("out"), "every=1");
        Assert.True(run.ExitCode == ExitCodes.Failure, run.ToString());
        Assert.Contains("riverbed: error: the nli model failed 32 runs in a row, down to single requests, and none of its runs has succeeded yet", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("is smaller than requested bytes of", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fault_hook_that_is_not_a_plan_is_refused_naming_the_variable()
    {
        using var scratch = new ScratchFolder("inference-fault-cli");
        var run = ScoreWithFaults(scratch.File("out"), "often");
        Assert.True(run.ExitCode == ExitCodes.Failure, run.ToString());
        Assert.Contains("RIVERBED_FAULT_OOM='often' (a test hook): 'often' is not understood", run.StandardError, StringComparison.Ordinal);
    }

    private CliResult ScoreWithFaults(string output, string faults, params string[] extra) =>
        Cli.Run(["score", PipelineModels.Alpaca, "--models", models.NliOnly, "--output", output,
            "--limit", PipelineModels.AlpacaRows.ToString(CultureInfo.InvariantCulture), "--format", "jsonl", "--batch-tokens", "512", .. extra],
            environment: new Dictionary<string, string?> { ["RIVERBED_FAULT_OOM"] = faults });

    private static string RowId(JsonElement row) => row.GetProperty("riverbed_id").GetString()!;
}
