using System.Text;
using Riverbed.IO;
using static Riverbed.Core.Tests.Pipeline.ScoringPipelineTests;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>
/// Progress counts work done, not work read ahead: examples are held back at the score stage so the reader runs as far
/// ahead as it may, and the snapshot is checked at those moments. Waits are for conditions, never for time.
/// </summary>
public sealed class PipelineProgressTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Records_read_ahead_count_for_nothing_until_they_are_scored_and_written()
    {
        using var scratch = new ScratchFolder("progress");
        List<ShardInput> inputs = [WriteShard(scratch, "a.jsonl", 40), WriteShard(scratch, "b.jsonl", 40), WriteShard(scratch, "c.jsonl", 40)];
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var processor = new FakeProcessor { Gate = _ => release.Task };
        var pipeline = ScoringPipelineTests.Pipeline(scratch, processor, OutputFormat.JsonLines, inFlight: 512);
        var run = pipeline.RunAsync(inputs);

        WaitFor(() => processor.Started == 120, "the reader to read every record ahead");
        var held = pipeline.Progress!;
        Assert.Equal((0L, 0, (double?)0.0), (held.Examples, held.ShardsDone, held.Fraction));
        Assert.Null(held.Remaining);

        release.SetResult();
        await run;
        var done = pipeline.Progress!;
        Assert.Equal((120L, 3), (done.Examples, done.ShardsDone));
        Assert.Equal(1.0, done.Fraction!.Value, 9);
    }

    [Fact]
    public async Task Examples_count_as_they_are_scored_in_any_order_while_the_work_done_waits_for_the_writer()
    {
        using var scratch = new ScratchFolder("progress");
        List<ShardInput> inputs = [WriteShard(scratch, "a.jsonl", 30), WriteShard(scratch, "b.jsonl", 30)];
        var releaseA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var processor = new FakeProcessor { Gate = example => example.Source == "a.jsonl" ? releaseA.Task : Task.CompletedTask };
        var pipeline = ScoringPipelineTests.Pipeline(scratch, processor, OutputFormat.JsonLines, inFlight: 512);
        var run = pipeline.RunAsync(inputs);

        WaitFor(() => pipeline.Progress?.Examples == 30, "b's examples to be scored");
        Assert.Equal((double?)0.0, pipeline.Progress!.Fraction);

        releaseA.SetResult();
        await run;
        Assert.Equal(60, pipeline.Progress!.Examples);
    }

    [Fact]
    public async Task Within_a_shard_the_work_done_is_the_input_position_of_its_last_written_record()
    {
        using var scratch = new ScratchFolder("progress");
        var input = WriteShard(scratch, "a.jsonl", 100);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var processor = new FakeProcessor { Gate = example => example.Row >= 50 ? release.Task : Task.CompletedTask };
        var pipeline = ScoringPipelineTests.Pipeline(scratch, processor, OutputFormat.JsonLines, inFlight: 512);
        var run = pipeline.RunAsync([input]);

        // Rows 0–49 are written, the writer waits on row 50: done is where row 49 starts, short of where row 50 starts.
        var lines = File.ReadAllLines(input.Path);
        var row49 = lines.Take(49).Sum(line => Encoding.UTF8.GetByteCount(line) + 1);
        var expected = (double)row49 / new FileInfo(input.Path).Length;
        WaitFor(() => pipeline.Progress?.Fraction is { } f && Math.Abs(f - expected) < 1e-12, $"the work done to reach {expected}");
        Assert.Equal(0, pipeline.Progress!.ShardsDone);

        release.SetResult();
        await run;
        Assert.Equal(1.0, pipeline.Progress!.Fraction!.Value, 9);
    }

    [Fact]
    public async Task Under_a_limit_each_shard_is_worth_its_limit_of_records_whatever_was_read_ahead()
    {
        using var scratch = new ScratchFolder("progress");
        List<ShardInput> inputs = [WriteShard(scratch, "a.jsonl", 50), WriteShard(scratch, "b.jsonl", 500)];
        var releaseB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var processor = new FakeProcessor { Gate = example => example.Source == "b.jsonl" ? releaseB.Task : Task.CompletedTask };
        var pipeline = ScoringPipelineTests.Pipeline(scratch, processor, OutputFormat.JsonLines, inFlight: 512, limit: 10);
        var run = pipeline.RunAsync(inputs);

        // a (10 of its records) is committed and b's 10 are read: half the work is done, whatever the shards' sizes.
        WaitFor(() => pipeline.Progress?.ShardsDone == 1 && processor.Started == 20, "a to commit and b to be read");
        Assert.Equal(0.5, pipeline.Progress!.Fraction!.Value, 12);
        Assert.Equal(10, pipeline.Progress!.Examples);

        releaseB.SetResult();
        await run;
        Assert.Equal((20L, 1.0), (pipeline.Progress!.Examples, Math.Round(pipeline.Progress!.Fraction!.Value, 9)));
    }

    [Fact]
    public async Task Shards_a_stop_left_for_the_rerun_count_as_not_done()
    {
        using var scratch = new ScratchFolder("progress");
        List<ShardInput> inputs = [WriteShard(scratch, "a.jsonl", 300), WriteShard(scratch, "b.jsonl", 300), WriteShard(scratch, "c.jsonl", 300)];
        using var intake = new CancellationTokenSource();
        var processor = new FakeProcessor { Throws = e => { if (e.Row == 100) { intake.Cancel(); } return false; } };
        var pipeline = ScoringPipelineTests.Pipeline(scratch, processor, OutputFormat.JsonLines);
        var result = await pipeline.RunAsync(inputs, intake.Token, CancellationToken.None);

        Assert.Equal(2, result.Stopped);
        var bytes = inputs.Select(input => (double)new FileInfo(input.Path).Length).ToList();
        Assert.Equal(bytes[0] / bytes.Sum(), pipeline.Progress!.Fraction!.Value, 12);
        Assert.Equal(1, pipeline.Progress!.ShardsDone);
    }

    private static void WaitFor(Func<bool> condition, string what) =>
        Assert.True(SpinWait.SpinUntil(condition, Patience), $"gave up waiting for {what}");
}
