using System.Diagnostics;

namespace Riverbed.Pipeline;

/// <summary>A moment of a run, for progress displays: counts so far, batching so far, and how far through the inputs.</summary>
/// <param name="Elapsed">Since the run started.</param>
/// <param name="ShardsTotal">Shards to process in this run (complete ones skipped are not counted).</param>
/// <param name="ShardsDone">Shards committed or failed so far.</param>
/// <param name="Examples">Examples finished (written as rows or failures).</param>
/// <param name="Rejected">Records rejected by the reader.</param>
/// <param name="Failed">Examples kept as failures.</param>
/// <param name="Removed">Rows whose decision is remove.</param>
/// <param name="Fraction">Estimated share of the work done, 0–1 (null when it cannot be estimated).</param>
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

    /// <summary>Time left at the average rate so far (null until it can be estimated).</summary>
    public TimeSpan? Remaining => Fraction is > 0.001 and < 1 and var f ? Elapsed * ((1 - f) / f) : null;
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

    /// <summary>Estimated share done; written by the reader stage, read by displays.</summary>
    public double? Fraction
    {
        get
        {
            var value = BitConverter.Int64BitsToDouble(Interlocked.Read(ref _fractionBits));
            return double.IsNaN(value) ? null : value;
        }
        set => Interlocked.Exchange(ref _fractionBits, BitConverter.DoubleToInt64Bits(value ?? double.NaN));
    }

    public void Row(bool removed)
    {
        Interlocked.Increment(ref _examples);
        if (removed)
        {
            Interlocked.Increment(ref _removed);
        }
    }

    public void Failure()
    {
        Interlocked.Increment(ref _examples);
        Interlocked.Increment(ref _failed);
    }

    public void Reject() => Interlocked.Increment(ref _rejected);

    public void ShardDone() => Interlocked.Increment(ref _shardsDone);

    public ProgressSnapshot Snapshot() => new(_clock.Elapsed, ShardsTotal, Volatile.Read(ref _shardsDone), Interlocked.Read(ref _examples),
        Interlocked.Read(ref _rejected), Interlocked.Read(ref _failed), Interlocked.Read(ref _removed), Fraction, _batching());
}
