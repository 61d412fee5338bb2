using System.Text.Json;
using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>
/// Inference faults through the whole engine with the real runtime: the oracle models (mlm, nli, rtd, ner), synthetic
/// dialogues, and the RIVERBED_FAULT_OOM plans attached to the sessions, so every fault is a real OrtStatus raised
/// inside InferenceSession.Run (reliability C1, C10, B2).
/// </summary>
[Collection(SmallVocabularyOracles.Collection)]
public sealed class InferenceFaultTests(SmallVocabularyOracles oracles)
{
    /// <summary>A word of the synthetic dialogues' answers ("near Lisbon"), in about one dialogue in ten.</summary>
    private const string Poison = "Lisbon";

    private static readonly (ModelRole, string)[] AllRoles =
        [(ModelRole.MaskedLm, "mlm"), (ModelRole.Nli, "nli"), (ModelRole.ReplacedTokenDetection, "rtd"), (ModelRole.TokenClassification, "ner")];

    /// <summary>Without the masked LM (whose [B,T,V] logits make it the slow one): three roles are enough to show isolation.</summary>
    private static readonly (ModelRole, string)[] QuickRoles =
        [(ModelRole.Nli, "nli"), (ModelRole.ReplacedTokenDetection, "rtd"), (ModelRole.TokenClassification, "ner")];

    [Theory]
    [InlineData(false, 300, "p=0.05,seed=7")]
    [InlineData(true, 40, "p=0.2,seed=11")]
    public async Task Allocation_failures_in_a_share_of_runs_lose_no_example_and_change_no_score_or_decision(bool withMaskedLm, int examples, string faults)
    {
        // Why no schedule can make this fail. How requests share batches depends on timing (how fast examples arrive
        // beside the rest of the suite), so the plan decides by what is run, not when: a request (its tokens) fails its
        // n-th attempt or not by a hash of (seed, role, tokens, n), and only its first `attempts` (2) attempts can fail.
        // The batcher gives a request 1 + AllocationRetriesAlone (3) attempts alone, so:
        // - no request is quarantined: it fails at most 2 attempts anywhere, and would need to fail 3 alone; so no
        //   example is lost, every score comes from a successful run (the same as the clean run's), and every failed run
        //   was answered by a split (a batch of two or more) or a retry (a request alone);
        // - the runtime check (MaxConsecutiveFailedRuns, 32) never runs: after a failed run a session runs a part of that
        //   batch (its first half, or the request again), every request of which has made one more attempt, so the 3rd
        //   run of such a chain holds only requests past their faulted attempts and succeeds: at most 2 failed in a row;
        // - runs do fail: every request makes an attempt 0, drawn from the seed whatever its batch, and with these seeds
        //   some of the fixed set of requests draw a fault there.
        var plan = InferenceFaultPlan.Parse(faults);
        var options = new BatchingOptions();
        Assert.Equal(2, plan.Attempts);
        Assert.True(plan.Attempts <= options.AllocationRetriesAlone && plan.Attempts < options.MaxConsecutiveFailedRuns);

        // The masked LM's [B,T,V] logits make it the slow role: the few-hundred-example run goes without it, a shorter
        // one with every role (fill-and-compare's masked LM and NLI requests included).
        var roles = withMaskedLm ? AllRoles : QuickRoles;
        using var scratch = new ScratchFolder("inference-faults");
        var input = Dialogues(scratch, "chat.jsonl", examples);
        var clean = await Score(oracles.Shared(roles), scratch.File("clean"), [input]);
        using var faulty = oracles.Open(roles);
        plan.Attach(faulty);
        var faulted = await Score(faulty, scratch.File("faulted"), [input]);

        var manifest = Assert.Single(faulted.Shards).Manifest!;
        Assert.Equal(((long)examples, (long)examples, 0L, 0L), (manifest.RowsIn, manifest.RowsOut, manifest.RowsRejected, manifest.RowsFailed));
        AssertSameScores(Rows(scratch.File("clean", "chat.jsonl")), Rows(scratch.File("faulted", "chat.jsonl")));
        var batching = faulted.Batching;
        Assert.All(batching, role => Assert.True(role.Batches > 0, role.ToString()));
        Assert.True(batching.Sum(b => b.FailedRuns) > 0, string.Join("; ", batching));
        Assert.Equal(batching.Sum(b => b.FailedRuns), batching.Sum(b => b.AllocationFailures));
        // Every failed run was answered by a split or a retry alone, none by failing a request.
        Assert.Equal(batching.Sum(b => b.FailedRuns), batching.Sum(b => b.Splits + b.Retries));
        Assert.Equal(0, batching.Sum(b => b.Quarantined));
        Assert.Equal(0, clean.Batching.Sum(b => b.FailedRuns));
    }

    [Fact]
    public void A_request_fails_the_same_attempts_whatever_it_is_batched_with_and_none_after_its_faulted_attempts()
    {
        var plan = InferenceFaultPlan.Parse("p=0.5,seed=5");
        using var models = oracles.Open(QuickRoles);
        var tokenizer = models[ModelRole.Nli]!.Tokenizer;
        int[][] requests = [.. Enumerable.Range(0, 24).Select(i => Enumerable.Range(0, 3 + (i % 7)).Select(t => 5 + ((t * 31) + (i * 17)) % 900).ToArray())];

        // Each request alone, five times: its own fault pattern, attempt by attempt.
        var alone = plan.TriggerFor(ModelRole.Nli, tokenizer);
        var pattern = requests.Select(request => Enumerable.Range(0, 5).Select(_ => Fails(alone, [request])).ToArray()).ToArray();
        Assert.All(pattern, attempts => Assert.Equal([false, false, false], attempts[2..]));
        Assert.Contains(pattern, attempts => attempts[0]);
        Assert.Contains(pattern, attempts => !attempts[0] && attempts[1]);
        Assert.Contains(pattern, attempts => !attempts[0] && !attempts[1]);

        // The same requests in batches of every size, in a shuffled order (padded to the longest): a batch fails exactly
        // when one of its requests is at a faulted attempt of its own pattern, and each run is one attempt of each.
        var batched = plan.TriggerFor(ModelRole.Nli, tokenizer);
        var made = new int[requests.Length];
        var order = new Random(3);
        for (var round = 0; round < 5; round++)
        {
            var shuffled = Enumerable.Range(0, requests.Length).OrderBy(_ => order.Next()).ToArray();
            for (var start = 0; start < shuffled.Length;)
            {
                var members = shuffled.Skip(start).Take(1 + ((start + round) % 6)).ToArray();
                start += members.Length;
                var expected = members.Any(r => made[r] < 5 && pattern[r][made[r]]);
                Assert.Equal(expected, Fails(batched, [.. members.Select(r => requests[r])]));
                foreach (var r in members)
                {
                    made[r]++;
                }
            }
        }

        // Another role draws its own faults; another seed other ones.
        var otherRole = plan.TriggerFor(ModelRole.ReplacedTokenDetection, tokenizer);
        var otherSeed = InferenceFaultPlan.Parse("p=0.5,seed=6").TriggerFor(ModelRole.Nli, tokenizer);
        Assert.NotEqual(pattern.Select(attempts => attempts[0]), requests.Select(request => Fails(otherRole, [request])));
        Assert.NotEqual(pattern.Select(attempts => attempts[0]), requests.Select(request => Fails(otherSeed, [request])));
    }

    [Theory]
    [InlineData("oom", ModelRequestFailedException.OutOfMemory, "3 attempts")]
    [InlineData("error", ModelRequestFailedException.RuntimeError, "1 attempt)")]
    public async Task A_poison_request_fails_its_example_alone_with_id_and_reason_and_the_rest_of_its_batch_is_scored(string kind, string failureKind, string attempts)
    {
        using var scratch = new ScratchFolder("inference-faults");
        var input = Dialogues(scratch, "chat.jsonl", 40);
        await Score(oracles.Shared(QuickRoles), scratch.File("clean"), [input]);
        using var faulty = oracles.Open(QuickRoles);
        InferenceFaultPlan.Parse($"word={Poison},kind={kind}").Attach(faulty);
        var result = await Score(faulty, scratch.File("faulted"), [input], RejectBudget.OfCount(1000));

        var poisoned = File.ReadLines(input.Path).Select((line, row) => (line, row)).Where(l => l.line.Contains(Poison, StringComparison.Ordinal))
            .Select(l => $"synthetic-{l.row:D6}").ToHashSet();
        Assert.InRange(poisoned.Count, 2, 20);
        var failures = Rows(scratch.File("faulted", "chat.failures.jsonl"));
        Assert.Equal(poisoned.Order(), failures.Select(f => f.GetProperty("id").GetString()!).Order());
        foreach (var failure in failures)
        {
            Assert.Equal(failureKind, failure.GetProperty("kind").GetString());
            var message = failure.GetProperty("message").GetString()!;
            Assert.Matches("^the (mlm|nli|rtd|ner) model failed on a request of [0-9]+ tokens run alone", message);
            Assert.Contains(attempts, message, StringComparison.Ordinal);
        }
        var manifest = result.Shards[0].Manifest!;
        Assert.Equal((40L, 40L - poisoned.Count, (long)poisoned.Count), (manifest.RowsIn, manifest.RowsOut, manifest.RowsFailed));
        var clean = Rows(scratch.File("clean", "chat.jsonl")).Where(row => !poisoned.Contains(Id(row))).ToList();
        AssertSameScores(clean, Rows(scratch.File("faulted", "chat.jsonl")));
        var batching = result.Batching;
        // The poison shared batches with clean requests: they were split off and answered.
        Assert.True(batching.Sum(b => b.Splits) > 0, string.Join("; ", batching));
        Assert.True(batching.Sum(b => b.Quarantined) >= poisoned.Count, string.Join("; ", batching));
    }

    [Fact]
    public async Task A_shard_past_its_failure_budget_fails_uncommitted_and_the_next_shard_commits_with_counts_that_reconcile()
    {
        using var scratch = new ScratchFolder("inference-faults");
        var poisoned = Dialogues(scratch, "poisoned.jsonl", 50, seed: 3);
        var clean = scratch.File("clean.jsonl");
        File.WriteAllLines(clean, File.ReadLines(Dialogues(scratch, "source.jsonl", 30, seed: 4).Path).Where(line => !line.Contains(Poison, StringComparison.Ordinal)));
        using var faulty = oracles.Open(QuickRoles);
        InferenceFaultPlan.Parse($"word={Poison}").Attach(faulty);
        var output = scratch.File("out");
        var result = await Score(faulty, output, [ShardInput.FromFile(poisoned.Path), ShardInput.FromFile(clean)], RejectBudget.OfCount(2));

        Assert.Equal([ShardRunStatus.Failed, ShardRunStatus.Committed], result.Shards.Select(s => s.Status));
        var message = result.Shards[0].Message;
        Assert.Contains("poisoned.jsonl: 3 failed rows in its first", message, StringComparison.Ordinal);
        Assert.Contains("exceed the failure budget (Setting.MaxFailures 2: 2 allowed)", message, StringComparison.Ordinal);
        Assert.Contains("Last failure (inference_oom): the ", message, StringComparison.Ordinal);
        // Nothing of the shard: only its failure marker (.riverbed/failed/poisoned.json), which says why.
        Assert.Equal([FailureMarker.PathFor(output, "poisoned")], Directory.EnumerateFiles(output, "poisoned*", SearchOption.AllDirectories));

        var committed = result.Shards[1].Manifest!;
        var stats = ScoreStatistics.Load(Path.Combine(output, "clean.stats.json"));
        Assert.Equal(File.ReadLines(clean).Count(), committed.RowsIn);
        Assert.Equal(committed.RowsIn, committed.RowsOut + committed.RowsRejected + committed.RowsFailed);
        Assert.Equal((committed.RowsIn, committed.RowsFailed), (stats.RowsIn, stats.RowsFailed));

        // The same faults under a larger budget: the shard commits, its failures kept with their reasons.
        var rerun = await Score(faulty, output, [ShardInput.FromFile(poisoned.Path), ShardInput.FromFile(clean)], RejectBudget.OfCount(100));
        Assert.Equal([ShardRunStatus.Committed, ShardRunStatus.Skipped], rerun.Shards.Select(s => s.Status));
        var manifest = rerun.Shards[0].Manifest!;
        Assert.True(manifest.RowsFailed > 2);
        Assert.Equal(manifest.RowsIn, manifest.RowsOut + manifest.RowsRejected + manifest.RowsFailed);
    }

    [Fact]
    public async Task A_model_that_fails_every_run_stops_the_run_with_the_cause_instead_of_failing_every_example()
    {
        using var scratch = new ScratchFolder("inference-faults");
        var input = Dialogues(scratch, "chat.jsonl", 40);
        using var faulty = oracles.Open(QuickRoles);
        InferenceFaultPlan.Parse("every=1,role=nli").Attach(faulty);
        var error = await Assert.ThrowsAsync<InferenceFaultException>(() => Score(faulty, scratch.File("out"), [input]));
        Assert.StartsWith("the nli model failed 32 runs in a row", error.Message, StringComparison.Ordinal);
        Assert.Contains("is smaller than requested bytes of", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(scratch.File("out"), "chat*"));
    }

    [Fact]
    public async Task A_held_word_keeps_its_runs_waiting_until_the_marker_exists_and_then_fails_nothing()
    {
        using var scratch = new ScratchFolder("inference-faults");
        var marker = scratch.File("release");
        var plan = InferenceFaultPlan.Parse($"word=zebra,hold={marker}");
        Assert.Equal(("zebra", marker), (plan.Word, plan.Hold));
        using var models = oracles.Open(QuickRoles);
        var tokenizer = models[ModelRole.Nli]!.Tokenizer;
        var trigger = plan.TriggerFor(ModelRole.Nli, tokenizer);
        int[] horse = [.. tokenizer.Encode("a horse in a field").Ids.ToArray()];
        int[] zebra = [.. tokenizer.Encode("a zebra in a field").Ids.ToArray()];

        Assert.False(Fails(trigger, [horse]));
        var held = Task.Run(() => Fails(trigger, [horse, zebra]));
        // Only a broken hold can end this wait early; a working one outlasts any bound.
        var released = Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Same(released, await Task.WhenAny(held, released));
        await File.WriteAllTextAsync(marker, "go");
        Assert.False(await held.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [InlineData("p=0.05,seed=7", 0.05, 2, null, null, null)]
    [InlineData("p=1,attempts=5", 1.0, 5, null, null, null)]
    [InlineData("every=3,role=nli", null, null, 3, null, ModelRole.Nli)]
    [InlineData("word=zebra,kind=error,role=ner", null, null, null, "zebra", ModelRole.TokenClassification)]
    public void A_fault_plan_reads_each_of_its_forms(string text, double? probability, int? attempts, int? every, string? word, ModelRole? role)
    {
        var plan = InferenceFaultPlan.Parse(text);
        Assert.Equal((probability, attempts, every, word, role), (plan.Probability, plan.Attempts, plan.Every, plan.Word, plan.Role));
    }

    [Theory]
    [InlineData("")]
    [InlineData("p=0")]
    [InlineData("p=0.1,every=2")]
    [InlineData("every=2,role=gpu")]
    [InlineData("word=x,kind=segfault")]
    [InlineData("p=0.1,attempts=0")]
    [InlineData("every=2,attempts=1")]
    [InlineData("p=0.1,hold=/tmp/marker")]
    [InlineData("word=x,kind=oom,hold=/tmp/marker")]
    public void A_fault_plan_that_is_not_one_is_refused_with_the_forms(string text)
    {
        var error = Assert.Throws<RiverbedException>(() => InferenceFaultPlan.Parse(text));
        Assert.StartsWith($"RIVERBED_FAULT_OOM='{text}' (a test hook): ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Forms: p=0.05[,seed=7][,attempts=2] | every=3 | word=zebra", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Whether the trigger fails a Run of these requests, padded into one int64 batch as the runner pads them.</summary>
    private static bool Fails(FaultTrigger trigger, int[][] batch)
    {
        var length = batch.Max(request => request.Length);
        using var ids = OrtTensor.Create<long>(batch.Length, length);
        using var mask = OrtTensor.Create<long>(batch.Length, length);
        for (var r = 0; r < batch.Length; r++)
        {
            for (var t = 0; t < length; t++)
            {
                ids.Span[(r * length) + t] = t < batch[r].Length ? batch[r][t] : 1;
                mask.Span[(r * length) + t] = t < batch[r].Length ? 1 : 0;
            }
        }
        return trigger([new NamedTensor("input_ids", ids), new NamedTensor("attention_mask", mask)]) != InjectedFault.None;
    }

    private static ShardInput Dialogues(ScratchFolder scratch, string name, int count, int seed = 1)
    {
        var path = scratch.File(name);
        SyntheticDialogues.Write(path, count, seed);
        return ShardInput.FromFile(path);
    }

    private static Task<ScoreRunResult> Score(ModelSet models, string output, IReadOnlyList<ShardInput> inputs, RejectBudget? budget = null) =>
        new ScoringPipeline(models, new ScoreRunOptions
        {
            OutputFolder = output,
            ConfigHash = "inference-faults",
            Format = OutputFormat.JsonLines,
            MaxFailures = budget ?? RejectBudget.DefaultFailures,
        }).RunAsync(inputs);

    private static List<JsonElement> Rows(string path) =>
        [.. File.ReadLines(path).Select(line => JsonDocument.Parse(line).RootElement)];

    private static string Id(JsonElement row) => row.GetProperty("riverbed_id").GetString()!;

    private static void AssertSameScores(List<JsonElement> expected, List<JsonElement> actual)
    {
        Assert.Equal(expected.Select(Id), actual.Select(Id));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].GetProperty(ScoredColumns.Decision).GetString(), actual[i].GetProperty(ScoredColumns.Decision).GetString());
            foreach (var score in ScoreNames.All)
            {
                var column = ScoredColumns.ScoreColumn(score);
                var (e, a) = (expected[i].GetProperty(column), actual[i].GetProperty(column));
                Assert.Equal(e.ValueKind, a.ValueKind);
                if (e.ValueKind == JsonValueKind.Number)
                {
                    Assert.Equal(e.GetDouble(), a.GetDouble(), 1e-6);
                }
            }
        }
    }
}
