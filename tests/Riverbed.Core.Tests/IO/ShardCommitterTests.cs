using Riverbed.IO;

namespace Riverbed.Core.Tests.IO;

/// <summary>The committer's state machine, driven directly as the pipeline's writer stage drives it.</summary>
public sealed class ShardCommitterTests
{
    [Fact]
    public async Task A_shard_written_to_its_end_commits_and_clears_the_marker_an_earlier_attempt_left()
    {
        using var scratch = new ScratchFolder("committer");
        var (input, options) = Shard(scratch, rows: 4);
        FailureMarker.Write(options.Writer.OutputFolder, "in", "an earlier attempt failed", WriterIdentity.Single);
        using var committer = new ShardCommitter(input, options);
        Assert.Equal(ShardCommitState.Pending, committer.State);

        committer.Open(CancellationToken.None);
        Assert.Equal(ShardCommitState.Writing, committer.State);
        var read = Feed(committer, input);
        var outcome = await committer.CommitAsync(read, null, CancellationToken.None);

        Assert.Equal((ShardCommitState.Committed, "written"), (outcome.State, outcome.Message));
        Assert.Equal(4, outcome.Manifest!.RowsOut);
        Assert.Null(FailureMarker.TryRead(options.Writer.OutputFolder, "in"));
        Assert.False(File.Exists(scratch.File("out", ".in.lock.owner")));
    }

    [Fact]
    public async Task A_shard_over_its_reject_budget_fails_with_its_marker_and_leaves_nothing_committed()
    {
        using var scratch = new ScratchFolder("committer");
        var (input, options) = Shard(scratch, rows: 6, badLines: [1, 4]);
        using var committer = new ShardCommitter(input, options with { Rejects = RejectBudget.Parse("10%"), Identity = new WriterIdentity(1, 4) });
        committer.Open(CancellationToken.None);
        var outcome = await committer.CommitAsync(Feed(committer, input), null, CancellationToken.None);

        Assert.Equal(ShardCommitState.Failed, outcome.State);
        Assert.StartsWith("2 rejects exceed the budget of 10% (Setting.MaxRejects) in 6 records (0 allowed), by kind: invalid_json 2", outcome.Message, StringComparison.Ordinal);
        var marker = FailureMarker.TryRead(options.Writer.OutputFolder, "in")!;
        Assert.Equal((outcome.Message, 1, 4), (marker.Reason, marker.Rank, marker.WorldSize));
        Assert.False(File.Exists(scratch.File("out", "in.manifest.json")));
        Assert.Empty(Directory.EnumerateFiles(scratch.File("out"), "*.jsonl"));
    }

    [Fact]
    public void A_shard_reached_after_intake_stopped_is_not_begun_and_takes_no_more_input()
    {
        using var scratch = new ScratchFolder("committer");
        var (input, options) = Shard(scratch, rows: 2);
        using var stopped = new CancellationTokenSource();
        stopped.Cancel();
        using var committer = new ShardCommitter(input, options);
        committer.Open(stopped.Token);

        Assert.Equal(ShardCommitState.NotBegun, committer.State);
        Assert.False(committer.TakesInput);
        Assert.False(Directory.Exists(scratch.File("out")) && Directory.EnumerateFileSystemEntries(scratch.File("out")).Any());
    }

    [Fact]
    public void A_shard_whose_lock_is_held_is_busy_and_its_read_failure_records_no_marker()
    {
        using var scratch = new ScratchFolder("committer");
        var (input, options) = Shard(scratch, rows: 2);
        Directory.CreateDirectory(scratch.File("out"));
        using var held = new FileStream(scratch.File("out", ".in.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        using var committer = new ShardCommitter(input, options);
        committer.Open(CancellationToken.None);
        Assert.Equal(ShardCommitState.Busy, committer.State);
        Assert.False(committer.TakesInput);

        var outcome = committer.Fail("in.jsonl: truncated");
        Assert.Equal(ShardCommitState.Busy, outcome.State);
        Assert.Contains("is being written by another process", outcome.Message, StringComparison.Ordinal);
        Assert.Null(FailureMarker.TryRead(options.Writer.OutputFolder, "in"));
    }

    [Fact]
    public void A_shard_disposed_before_its_end_is_abandoned_with_no_temporary_and_no_marker()
    {
        using var scratch = new ScratchFolder("committer");
        var (input, options) = Shard(scratch, rows: 3);
        var committer = new ShardCommitter(input, options);
        committer.Open(CancellationToken.None);
        Feed(committer, input);
        committer.Dispose();

        Assert.Equal(ShardCommitState.Abandoned, committer.State);
        Assert.Empty(Directory.EnumerateFiles(scratch.File("out"), "*.tmp", SearchOption.AllDirectories));
        Assert.False(File.Exists(scratch.File("out", "in.manifest.json")));
        Assert.Null(FailureMarker.TryRead(options.Writer.OutputFolder, "in"));
    }

    [Fact]
    public void Failed_rows_past_the_failure_budget_stop_the_shard_which_then_fails_at_its_end()
    {
        using var scratch = new ScratchFolder("committer");
        var (input, options) = Shard(scratch, rows: 5);
        using var committer = new ShardCommitter(input, options with { Failures = RejectBudget.ParseFailures("1") });
        committer.Open(CancellationToken.None);
        using var reader = ShardReader.Open(input, new ReaderOptions());
        var examples = reader.ReadRecords(CancellationToken.None).Select(record => record.Example!).ToList();

        committer.WriteFailed(examples[0], "tokenization", "too long");
        Assert.Equal(ShardCommitState.Writing, committer.State);
        committer.WriteFailed(examples[1], "tokenization", "too long");
        Assert.Equal(ShardCommitState.OverFailureBudget, committer.State);
        Assert.False(committer.TakesInput);

        var outcome = committer.Fail("never mind the rest");
        Assert.Equal(ShardCommitState.Failed, outcome.State);
        Assert.NotNull(FailureMarker.TryRead(options.Writer.OutputFolder, "in"));
    }

    private static (ShardInput Input, ShardCommitOptions Options) Shard(ScratchFolder scratch, int rows, IReadOnlyList<int>? badLines = null)
    {
        var path = scratch.File("in.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, rows).Select(i => badLines?.Contains(i) == true
            ? "{\"instruction\": broken"
            : $"{{\"instruction\":\"q{i}\",\"output\":\"a{i}\"}}"));
        var writer = new ShardWriterOptions { OutputFolder = scratch.File("out"), ConfigHash = "test", Format = OutputFormat.JsonLines };
        return (ShardInput.FromFile(path), new ShardCommitOptions { Writer = writer });
    }

    /// <summary>Hands every record of the shard to the committer, as the writer stage does, and returns what was read.</summary>
    private static ShardReadStatistics Feed(ShardCommitter committer, ShardInput input)
    {
        using var reader = ShardReader.Open(input, new ReaderOptions());
        foreach (var record in reader.ReadRecords(CancellationToken.None))
        {
            if (record.Example is { } example)
            {
                committer.WriteRow(example, default, null);
            }
            else
            {
                committer.WriteReject(record.Reject!);
            }
        }
        return reader.Statistics;
    }
}
