using System.Diagnostics;

namespace Riverbed.Pipeline;

/// <summary>A moment of a run, for progress displays: counts so far, batching so far, and how much of the work is done.</summary>
/// <param name="Elapsed">Since the run started.</param>
/// <param name="ShardsTotal">Shards to process in this run (complete ones skipped are not counted).</param>
/// <param name="ShardsDone">Shards committed or failed so far.</param>
/// <param name="Examples">Examples scored so far (in whatever order they finished; written rows follow in input order).</param>
/// <param name="Rejected">Records rejected by the reader and written to the rejects.</param>
/// <param name="Failed">Examples written as failures.</param>
/// <param name="Removed">Rows written whose decision is remove.</param>
/// <param name="Fraction">
/// Share of the work done, 0–1, from what the writer stage has finished: whole shards once committed (or failed, or
/// left to another worker), and within the shard being written the input position of its last written record (its
/// bytes for plain JSONL/JSON, its records under a limit). What the reader has read ahead never counts, so this runs
/// ahead of the committed work by less than one shard.
/// </param>
/// <param name="Batching">Per model role.</param>
public sealed record ProgressSnapshot(TimeSpan Elapsed, int ShardsTotal, int ShardsDone, long Examples, long Rejected, long Failed,
    long Removed, double? Fraction, IReadOnlyList<RoleBatchStatistics> Batching)
{
    public double ExamplesPerSecond => Elapsed.TotalSeconds > 0 ? Examples / Elapsed.TotalSeconds : 0;

    /// <summary>Real (non-padding) tokens per second over all models.</summary>
    public double RealTokensPerSecond => Elapsed.TotalSeconds > 0 ? Batching.Sum(b => b.RealTokens) / Elapsed.TotalSeconds : 0;

    /// <summary>Mean batch fill over all roles, weighted by batches.</summary>
    public double BatchFill
    {
        get
        {
            var batches = Batching.Sum(b => b.Batches);
            return batches == 0 ? 0 : Batching.Sum(b => b.Fill * b.Batches) / batches;
        }
    }

    /// <summary>
    /// Time left at the average rate of work done so far: null until 1% is done, since the first examples finish
    /// together after the models' start (an estimate from a few of them swings by tens of minutes).
    /// </summary>
    public TimeSpan? Remaining => Fraction is >= 0.01 and < 1 and var f ? Elapsed * ((1 - f) / f) : null;
}

/// <summary>Live counters the stages update and displays read (thread-safe, lock-free).</summary>
internal sealed class PipelineProgress
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Func<IReadOnlyList<RoleBatchStatistics>> _batching;
    private long _examples;
    private long _rejected;
    private long _failed;
    private long _removed;
    private int _shardsDone;
    private long _fractionBits;

    public PipelineProgress(int shardsTotal, Func<IReadOnlyList<RoleBatchStatistics>> batching)
    {
        ShardsTotal = shardsTotal;
        _batching = batching;
        Fraction = shardsTotal == 0 ? 1 : 0;
    }

    public int ShardsTotal { get; }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Share of the work done; written by the writer stage (it only grows), read by displays.</summary>
    public double? Fraction
    {
        get
        {
            var value = BitConverter.Int64BitsToDouble(Interlocked.Read(ref _fractionBits));
            return double.IsNaN(value) ? null : value;
        }
        set => Interlocked.Exchange(ref _fractionBits, BitConverter.DoubleToInt64Bits(value ?? double.NaN));
    }

    /// <summary>An example's scoring finished (a row or a failure), in whatever order.</summary>
    public void Scored() => Interlocked.Increment(ref _examples);

    /// <summary>A scored row was written.</summary>
    public void Row(bool removed)
    {
        if (removed)
        {
            Interlocked.Increment(ref _removed);
        }
    }

    /// <summary>A failure was written.</summary>
    public void Failure() => Interlocked.Increment(ref _failed);

    public void Reject() => Interlocked.Increment(ref _rejected);

    public void ShardDone() => Interlocked.Increment(ref _shardsDone);

    public ProgressSnapshot Snapshot() => new(_clock.Elapsed, ShardsTotal, Volatile.Read(ref _shardsDone), Interlocked.Read(ref _examples),
        Interlocked.Read(ref _rejected), Interlocked.Read(ref _failed), Interlocked.Read(ref _removed), Fraction, _batching());
}
