using System.Text.Json;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>
/// The engine with a fake score stage (random delays, chosen scores, injected faults): order, reconciliation, stats,
/// bounded memory, faults and cancellation. The real models are exercised end to end by the CLI tests.
/// </summary>
public sealed class ScoringPipelineTests
{
    /// <summary>Scores from the row number: fill_compare_min = (row % 10 − 3) / 10, so rows ending in 0–2 are removed.</summary>
    internal sealed class FakeProcessor : IExampleProcessor
    {
        private int _inFlight;
        private int _started;

        public int MaxInFlight { get; private set; }

        /// <summary>Examples handed to the processor so far.</summary>
        public int Started => Volatile.Read(ref _started);

        /// <summary>What an example waits for before it is scored (tests hold examples back with it).</summary>
        public Func<Example, Task> Gate { get; init; } = _ => Task.CompletedTask;

        public Func<Example, bool> Throws { get; init; } = _ => false;

        public Func<Example, bool> FailsTokenization { get; init; } = _ => false;

        public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(3);

        public IReadOnlyList<RoleBatchStatistics> Batching => [];

        public TimeSpan ModelBusy => TimeSpan.Zero;

        public async Task<ExampleOutcome> ProcessAsync(Example example, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _inFlight);
            Interlocked.Increment(ref _started);
            lock (this)
            {
                MaxInFlight = Math.Max(MaxInFlight, now);
            }
            try
            {
                await Gate(example).WaitAsync(cancellationToken);
                // Later rows often finish first.
                await Task.Delay(TimeSpan.FromTicks(MaxDelay.Ticks * ((example.Row * 7919) % 11) / 10), cancellationToken);
                if (Throws(example))
                {
                    throw new InvalidOperationException($"injected fault at row {example.Row}");
                }
                if (FailsTokenization(example))
                {
                    return ExampleOutcome.Failure(ModelExampleProcessor.TokenizationFailure, "too long to tokenize");
                }
                var dialogue = ModelExampleProcessor.Normalize(example);
                var scores = Scores(dialogue, example.Row);
                var decision = DecisionPolicy.Default.Decide(scores.Scores);
                return ExampleOutcome.Row(ScoredColumns.Values(dialogue, scores, decision), ScoredColumns.Route(decision),
                    ExampleFacts.From(dialogue, scores, decision));
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public void Complete()
        {
        }

        public void Abort(Exception reason)
        {
        }

        public void Dispose()
        {
        }

        private static DialogueScores Scores(Dialogue dialogue, long row)
        {
            var text = dialogue.Turns[1].Text;
            var span = new ScoreSpan(SpanKinds.Fill, 1, 0, text.IndexOf(' ', StringComparison.Ordinal), text[..text.IndexOf(' ', StringComparison.Ordinal)], "x",
                ((row % 10) - 3) / 10.0, row % 10 < 3, null);
            var turns = dialogue.Turns.Select((t, i) => new TurnScores(i, t.Speaker, null, null, null, null, null, null, null)).ToList();
            var fill = new FillCompareResult([new FillCompareTurn(1, 1, 1, 1, span.Score, span.Score)],
                [new FillPosition(1, span.Start, span.End, span.Original, "x", false, span.Score, null, null, null, null)]);
            return new DialogueScores(fill, null, null, ["replaced_entity: no rtd model"], [span], turns, new ModelTokenCounts(10, 20, 0, 0));
        }
    }

    [Theory]
    [InlineData(OutputFormat.JsonLines)]
    [InlineData(OutputFormat.Parquet)]
    public async Task Rows_come_out_in_input_order_with_their_scores_whatever_order_they_finish_in(OutputFormat format)
    {
        using var scratch = new ScratchFolder("pipeline");
        var input = WriteShard(scratch, "chat.jsonl", 300, badLines: [17, 205]);
        var processor = new FakeProcessor();
        var result = await Pipeline(scratch, processor, format, inFlight: 32).RunAsync([input]);

        var shard = Assert.Single(result.Shards);
        Assert.Equal(ShardRunStatus.Committed, shard.Status);
        var manifest = shard.Manifest!;
        Assert.Equal((300L, 298L, 2L, 0L), (manifest.RowsIn, manifest.RowsOut, manifest.RowsRejected, manifest.RowsFailed));
        var rows = ReadRows(scratch.File("out", manifest.Outputs[0].File.Path), format);
        Assert.Equal(Enumerable.Range(0, 300).Where(i => i is not 17 and not 205).Select(i => (long)i), rows.Select(r => r.GetProperty("riverbed_row").GetInt64()));
        foreach (var row in rows)
        {
            var n = row.GetProperty("riverbed_row").GetInt64();
            Assert.Equal(((n % 10) - 3) / 10.0, row.GetProperty("riverbed_fill_compare_min").GetDouble());
            Assert.Equal(n % 10 < 3 ? "remove" : "keep", row.GetProperty("riverbed_decision").GetString());
            Assert.Equal(JsonValueKind.Null, row.GetProperty("riverbed_contradiction_max").ValueKind);
            var span = row.GetProperty("riverbed_spans")[0];
            var turns = row.GetProperty("riverbed_turns");
            Assert.Equal(2, turns.GetArrayLength());
            Assert.Equal("assistant", turns[1].GetProperty("speaker").GetString());
            Assert.Equal($"answer{n}", turns[1].GetProperty("text").GetString()![span.GetProperty("start").GetInt32()..span.GetProperty("end").GetInt32()]);
        }
        Assert.True(processor.MaxInFlight <= 33, $"{processor.MaxInFlight} examples were in flight with a window of 32");

        var stats = ScoreStatistics.Load(scratch.File("out", "chat.stats.json"));
        Assert.Equal((300L, 298L, 2L, 0L), (stats.RowsIn, stats.RowsOut, stats.RowsRejected, stats.RowsFailed));
        var removed = Enumerable.Range(0, 300).Count(i => i is not 17 and not 205 && i % 10 < 3);
        Assert.Equal((298L - removed, (long)removed), (stats.Kept, stats.Removed));
        Assert.Equal(removed, stats.RemovedByReason["fill_compare_min<0"]);
        Assert.Equal(2, stats.RejectsByKind["invalid_json"]);
        Assert.Equal(298 * 10, stats.Tokens[0]);
        Assert.Equal(298, stats.Scores[ScoreNames.FillCompareMin].Count);
        Assert.Equal(298, stats.Scores[ScoreNames.ContradictionMax].Missing);
        Assert.Contains(manifest.Attachments, a => a.Path == "chat.stats.json");
    }

    [Fact]
    public async Task An_example_that_cannot_be_tokenized_is_kept_as_a_failure_and_the_counts_reconcile()
    {
        using var scratch = new ScratchFolder("pipeline");
        var input = WriteShard(scratch, "chat.jsonl", 40);
        var processor = new FakeProcessor { FailsTokenization = e => e.Row == 9 };
        var result = await Pipeline(scratch, processor, OutputFormat.JsonLines).RunAsync([input]);
        var manifest = result.Shards[0].Manifest!;
        Assert.Equal((40L, 39L, 0L, 1L), (manifest.RowsIn, manifest.RowsOut, manifest.RowsRejected, manifest.RowsFailed));
        var failure = JsonDocument.Parse(File.ReadAllLines(scratch.File("out", "chat.failures.jsonl")).Single()).RootElement;
        Assert.Equal(9, failure.GetProperty("row").GetInt64());
        Assert.Equal("tokenization", failure.GetProperty("kind").GetString());
        Assert.Equal(1, ScoreStatistics.Load(scratch.File("out", "chat.stats.json")).RowsFailed);
    }

    [Fact]
    public async Task A_fault_in_the_score_stage_stops_the_run_and_leaves_no_final_named_partial_shard()
    {
        using var scratch = new ScratchFolder("pipeline");
        var first = WriteShard(scratch, "a.jsonl", 20);
        var second = WriteShard(scratch, "b.jsonl", 200);
        var processor = new FakeProcessor { Throws = e => e.Source == "b.jsonl" && e.Row == 150 };
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Pipeline(scratch, processor, OutputFormat.Parquet).RunAsync([first, second]));
        Assert.Contains("row 150", error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(scratch.File("out", "a.manifest.json")));
        Assert.Equal(["a.manifest.json", "a.parquet", "a.stats.json"], VisibleFiles(scratch));
        Assert.Empty(Directory.EnumerateFiles(scratch.File("out"), "*.tmp"));

        var rerun = await Pipeline(scratch, new FakeProcessor(), OutputFormat.Parquet).RunAsync([first, second]);
        Assert.Equal([ShardRunStatus.Skipped, ShardRunStatus.Committed], rerun.Shards.Select(s => s.Status));
        Assert.Equal(200, rerun.Shards[1].Manifest!.RowsOut);
    }

    [Fact]
    public async Task Cancelling_mid_shard_throws_leaves_nothing_final_named_and_a_rerun_completes()
    {
        using var scratch = new ScratchFolder("pipeline");
        var input = WriteShard(scratch, "big.jsonl", 3000);
        using var cancellation = new CancellationTokenSource();
        var processor = new FakeProcessor { Throws = e => { if (e.Row == 500) { cancellation.Cancel(); } return false; } };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Pipeline(scratch, processor, OutputFormat.JsonLines).RunAsync([input], cancellation.Token));
        Assert.Empty(VisibleFiles(scratch));
        Assert.Empty(Directory.EnumerateFiles(scratch.File("out"), "*.tmp"));

        var rerun = await Pipeline(scratch, new FakeProcessor { MaxDelay = TimeSpan.Zero }, OutputFormat.JsonLines).RunAsync([input]);
        Assert.Equal(3000, rerun.Shards[0].Manifest!.RowsOut);
    }

    [Fact]
    public async Task A_shard_that_cannot_be_read_fails_alone()
    {
        using var scratch = new ScratchFolder("pipeline");
        var good = WriteShard(scratch, "good.jsonl", 10);
        var path = scratch.File("broken.parquet");
        File.WriteAllText(path, "not parquet at all");
        var result = await Pipeline(scratch, new FakeProcessor(), OutputFormat.JsonLines).RunAsync([ShardInput.FromFile(path), good]);
        Assert.Equal([ShardRunStatus.Failed, ShardRunStatus.Committed], result.Shards.Select(s => s.Status));
        Assert.Contains("broken.parquet", result.Shards[0].Message, StringComparison.Ordinal);
        Assert.Equal(1, result.Failed);
    }

    [Fact]
    public async Task A_limit_reads_only_the_first_records_of_each_shard()
    {
        using var scratch = new ScratchFolder("pipeline");
        var input = WriteShard(scratch, "chat.jsonl", 50);
        var result = await Pipeline(scratch, new FakeProcessor(), OutputFormat.JsonLines, limit: 12).RunAsync([input]);
        Assert.Equal((12L, 12L), (result.Shards[0].Manifest!.RowsIn, result.Shards[0].Manifest!.RowsOut));
    }

    [Fact]
    public async Task Stopping_intake_lets_the_shard_in_flight_commit_and_begins_no_other()
    {
        using var scratch = new ScratchFolder("pipeline");
        List<ShardInput> inputs = [WriteShard(scratch, "a.jsonl", 300), WriteShard(scratch, "b.jsonl", 300), WriteShard(scratch, "c.jsonl", 300)];
        using var intake = new CancellationTokenSource();
        var processor = new FakeProcessor { Throws = e => { if (e.Row == 100) { intake.Cancel(); } return false; } };
        var result = await Pipeline(scratch, processor, OutputFormat.JsonLines).RunAsync(inputs, intake.Token, CancellationToken.None);
        Assert.Equal([ShardRunStatus.Committed, ShardRunStatus.Stopped, ShardRunStatus.Stopped], result.Shards.Select(s => s.Status));
        Assert.Equal(300, result.Shards[0].Manifest!.RowsOut);
        Assert.Equal(2, result.Stopped);
        Assert.Equal(["a.jsonl", "a.manifest.json", "a.stats.json"], VisibleFiles(scratch));
    }

    [Fact]
    public async Task A_shard_whose_lock_another_worker_holds_is_left_alone_and_reported_held()
    {
        using var scratch = new ScratchFolder("pipeline");
        var input = WriteShard(scratch, "chat.jsonl", 20);
        Directory.CreateDirectory(scratch.File("out"));
        using (new FileStream(scratch.File("out", ".chat.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var result = await Pipeline(scratch, new FakeProcessor(), OutputFormat.JsonLines).RunAsync([input]);
            var shard = Assert.Single(result.Shards);
            Assert.Equal(ShardRunStatus.Failed, shard.Status);
            Assert.True(shard.HeldByAnother);
            Assert.Contains("is being written by another process", shard.Message, StringComparison.Ordinal);
            Assert.Empty(VisibleFiles(scratch));
        }
    }

    [Fact]
    public async Task A_shard_another_worker_committed_after_the_plan_is_kept_and_skipped_not_redone()
    {
        using var scratch = new ScratchFolder("pipeline");
        var first = WriteShard(scratch, "a.jsonl", 50);
        var second = WriteShard(scratch, "b.jsonl", 50);
        var otherWorker = 0;
        var processor = new FakeProcessor
        {
            // While this worker scores a.jsonl, "another worker" commits b.jsonl, which this one planned as to do.
            Throws = e =>
            {
                if (e.Id.StartsWith("a.jsonl#", StringComparison.Ordinal) && Interlocked.Exchange(ref otherWorker, 1) == 0)
                {
                    Pipeline(scratch, new FakeProcessor(), OutputFormat.JsonLines).RunAsync([second]).GetAwaiter().GetResult();
                }
                return false;
            },
        };
        var result = await Pipeline(scratch, processor, OutputFormat.JsonLines).RunAsync([first, second]);
        Assert.Equal([ShardRunStatus.Committed, ShardRunStatus.Skipped], result.Shards.Select(s => s.Status));
        Assert.Equal("committed by another worker", result.Shards[1].Message);
        Assert.Equal(50, result.Shards[1].Statistics!.RowsOut);
    }

    [Fact]
    public async Task A_complete_shard_made_with_another_configuration_is_refused_before_any_work()
    {
        using var scratch = new ScratchFolder("pipeline");
        var input = WriteShard(scratch, "chat.jsonl", 5);
        await Pipeline(scratch, new FakeProcessor(), OutputFormat.JsonLines).RunAsync([input]);
        var other = new ScoringPipeline(new ScoreRunOptions { OutputFolder = scratch.File("out"), ConfigHash = "other", Format = OutputFormat.JsonLines },
            () => new FakeProcessor());
        var error = Assert.Throws<RiverbedException>(() => other.Plan([input]));
        Assert.Contains("another configuration", error.Message, StringComparison.Ordinal);
        Assert.Contains("Setting.Config", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_library_run_without_callbacks_leaves_a_failure_marker_naming_its_writer_and_a_commit_clears_it()
    {
        using var scratch = new ScratchFolder("pipeline");
        var broken = WriteShard(scratch, "broken.jsonl", 20, badLines: [3, 7]);
        var good = WriteShard(scratch, "good.jsonl", 10);
        var output = scratch.File("out");
        ScoringPipeline Strict(RejectBudget rejects) => new(new ScoreRunOptions
        {
            OutputFolder = output,
            ConfigHash = "test",
            Format = OutputFormat.JsonLines,
            Rejects = rejects,
            Writer = new WriterIdentity(2, 3),
        }, () => new FakeProcessor());

        var strict = await Strict(RejectBudget.OfCount(1)).RunAsync([broken, good]);
        Assert.Equal([ShardRunStatus.Failed, ShardRunStatus.Committed], strict.Shards.Select(s => s.Status));
        var marker = FailureMarker.TryRead(output, "broken");
        Assert.NotNull(marker);
        Assert.StartsWith("2 rejects exceed the budget of 1 (Setting.MaxRejects) in 20 records (1 allowed), by kind: invalid_json 2", marker.Reason, StringComparison.Ordinal);
        Assert.Equal((2, 3), (marker.Rank, marker.WorldSize));
        Assert.Null(FailureMarker.TryRead(output, "good"));
        Assert.False(File.Exists(scratch.File("out", "broken.manifest.json")));

        var lenient = await Strict(RejectBudget.Parse("10%")).RunAsync([broken, good]);
        Assert.Equal([ShardRunStatus.Committed, ShardRunStatus.Skipped], lenient.Shards.Select(s => s.Status));
        Assert.Null(FailureMarker.TryRead(output, "broken"));
        Assert.Equal(2, lenient.Shards[0].Manifest!.RowsRejected);
    }

    [Fact]
    public async Task A_skipped_complete_shard_clears_the_marker_an_earlier_attempt_left_and_a_busy_one_records_none()
    {
        using var scratch = new ScratchFolder("pipeline");
        var input = WriteShard(scratch, "chat.jsonl", 5);
        await Pipeline(scratch, new FakeProcessor(), OutputFormat.JsonLines).RunAsync([input]);
        FailureMarker.Write(scratch.File("out"), "chat", "an attempt that failed before another committed", WriterIdentity.Single);

        var rerun = await Pipeline(scratch, new FakeProcessor(), OutputFormat.JsonLines).RunAsync([input]);
        Assert.Equal(ShardRunStatus.Skipped, rerun.Shards[0].Status);
        Assert.Null(FailureMarker.TryRead(scratch.File("out"), "chat"));

        var other = WriteShard(scratch, "other.jsonl", 5);
        using (new FileStream(scratch.File("out", ".other.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var busy = await Pipeline(scratch, new FakeProcessor(), OutputFormat.JsonLines).RunAsync([other]);
            Assert.True(busy.Shards[0].HeldByAnother);
        }
        Assert.Null(FailureMarker.TryRead(scratch.File("out"), "other"));
    }

    [Fact]
    public async Task A_shard_over_its_failure_budget_stops_early_and_leaves_its_marker()
    {
        using var scratch = new ScratchFolder("pipeline");
        var input = WriteShard(scratch, "chat.jsonl", 400);
        var processor = new FakeProcessor { FailsTokenization = e => e.Row % 2 == 0 };
        var result = await new ScoringPipeline(new ScoreRunOptions
        {
            OutputFolder = scratch.File("out"),
            ConfigHash = "test",
            Format = OutputFormat.JsonLines,
            MaxExamplesInFlight = 4,
            MaxFailures = RejectBudget.ParseFailures("3"),
        }, () => processor).RunAsync([input]);
        Assert.Equal(ShardRunStatus.Failed, result.Shards[0].Status);
        Assert.Contains("4 failed rows in its first 7 exceed the failure budget (Setting.MaxFailures 3: 3 allowed)", result.Shards[0].Message, StringComparison.Ordinal);
        Assert.True(processor.Started < 400, $"{processor.Started} examples were scored: the reader should stop feeding a shard past its budget");
        Assert.Equal(result.Shards[0].Message, FailureMarker.TryRead(scratch.File("out"), "chat")!.Reason);
        Assert.Equal(["chat.json"], VisibleFiles(scratch)); // the marker, under .riverbed/failed/: nothing of the shard
        Assert.Empty(Directory.EnumerateFiles(scratch.File("out"), "*.tmp"));
    }

    internal static ScoringPipeline Pipeline(ScratchFolder scratch, FakeProcessor processor, OutputFormat format, int inFlight = 64, long? limit = null) =>
        new(new ScoreRunOptions
        {
            OutputFolder = scratch.File("out"),
            ConfigHash = "test",
            Format = format,
            MaxExamplesInFlight = inFlight,
            Limit = limit,
        }, () => processor);

    internal static ShardInput WriteShard(ScratchFolder scratch, string name, int rows, IReadOnlyList<int>? badLines = null)
    {
        var path = scratch.File(name);
        File.WriteAllLines(path, Enumerable.Range(0, rows).Select(i => badLines?.Contains(i) == true
            ? "{\"instruction\": broken"
            : $"{{\"instruction\":\"question {i}\",\"output\":\"answer{i} is here.\"}}"));
        return ShardInput.FromFile(path);
    }

    private static List<JsonElement> ReadRows(string path, OutputFormat format)
    {
        if (format == OutputFormat.JsonLines)
        {
            return [.. File.ReadAllLines(path).Select(line => JsonDocument.Parse(line).RootElement)];
        }
        return Riverbed.Core.Tests.IO.DuckDbProbe.ParquetRows(path);
    }

    private static List<string> VisibleFiles(ScratchFolder scratch) =>
        [.. Directory.EnumerateFiles(scratch.File("out"), "*", SearchOption.AllDirectories)
            .Select(Path.GetFileName).OfType<string>().Where(name => !name.StartsWith('.')).Order(StringComparer.Ordinal)];
}
