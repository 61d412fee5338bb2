using System.Diagnostics;

namespace Riverbed.Pipeline;

/// <summary>A snapshot of one model role's batching: how full the batches were and how long the model ran.</summary>
/// <param name="Role">mlm, nli, rtd or ner.</param>
/// <param name="Sessions">Sessions (inference workers) serving the role.</param>
/// <param name="BudgetTokens">The role's padded-token budget per batch.</param>
/// <param name="Batches">Batches run.</param>
/// <param name="Requests">Requests answered.</param>
/// <param name="RealTokens">Tokens of the requests themselves.</param>
/// <param name="PaddedTokens">Tokens the model processed: requests × longest request, summed over batches.</param>
/// <param name="RunSeconds">Time spent inside the model runner (packing, Run(), reading outputs), summed over sessions.</param>
public sealed record RoleBatchStatistics(string Role, int Sessions, int BudgetTokens, long Batches, long Requests, long RealTokens,
    long PaddedTokens, double RunSeconds)
{
    /// <summary>Runs that failed (whatever the error); each is followed by a split, a retry, or a request failed alone.</summary>
    public long FailedRuns { get; init; }

    /// <summary>Of <see cref="FailedRuns"/>, those that failed to allocate memory.</summary>
    public long AllocationFailures { get; init; }

    /// <summary>Failed batches cut in two and run again half by half.</summary>
    public long Splits { get; init; }

    /// <summary>Requests run again alone after failing alone to allocate memory.</summary>
    public long Retries { get; init; }

    /// <summary>Requests that failed even alone: their examples became failed rows.</summary>
    public long Quarantined { get; init; }

    /// <summary>Requests looked up in the role's cache of identical requests (nli; 0 where there is none).</summary>
    public long CacheLookups { get; init; }

    /// <summary>Of <see cref="CacheLookups"/>, those answered from the cache instead of the model.</summary>
    public long CacheHits { get; init; }

    /// <summary>Share of lookups the cache answered.</summary>
    public double CacheHitRate => CacheLookups == 0 ? 0 : (double)CacheHits / CacheLookups;

    /// <summary>Share of processed tokens that were padding.</summary>
    public double PaddingFraction => PaddedTokens == 0 ? 0 : 1.0 - ((double)RealTokens / PaddedTokens);

    /// <summary>Mean share of the token budget a batch used.</summary>
    public double Fill => Batches == 0 ? 0 : (double)PaddedTokens / (Batches * (double)BudgetTokens);

    public RoleBatchStatistics Minus(RoleBatchStatistics earlier) => this with
    {
        Batches = Batches - earlier.Batches,
        Requests = Requests - earlier.Requests,
        RealTokens = RealTokens - earlier.RealTokens,
        PaddedTokens = PaddedTokens - earlier.PaddedTokens,
        RunSeconds = RunSeconds - earlier.RunSeconds,
        FailedRuns = FailedRuns - earlier.FailedRuns,
        AllocationFailures = AllocationFailures - earlier.AllocationFailures,
        Splits = Splits - earlier.Splits,
        Retries = Retries - earlier.Retries,
        Quarantined = Quarantined - earlier.Quarantined,
        CacheLookups = CacheLookups - earlier.CacheLookups,
        CacheHits = CacheHits - earlier.CacheHits,
    };
}

/// <summary>Counters one role's workers add to concurrently.</summary>
internal sealed class BatchCounters(string role, int sessions, int budgetTokens)
{
    private long _batches;
    private long _requests;
    private long _realTokens;
    private long _paddedTokens;
    private long _runTicks;
    private long _failedRuns;
    private long _allocationFailures;
    private long _splits;
    private long _retries;
    private long _quarantined;

    public void Add(int requests, long realTokens, long paddedTokens, long runTicks)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _requests, requests);
        Interlocked.Add(ref _realTokens, realTokens);
        Interlocked.Add(ref _paddedTokens, paddedTokens);
        Interlocked.Add(ref _runTicks, runTicks);
    }

    public void FailedRun(bool allocation)
    {
        Interlocked.Increment(ref _failedRuns);
        if (allocation)
        {
            Interlocked.Increment(ref _allocationFailures);
        }
    }

    public void Split() => Interlocked.Increment(ref _splits);

    public void Retry() => Interlocked.Increment(ref _retries);

    public void Quarantine() => Interlocked.Increment(ref _quarantined);

    public RoleBatchStatistics Snapshot() => new(role, sessions, budgetTokens, Volatile.Read(ref _batches), Volatile.Read(ref _requests),
        Volatile.Read(ref _realTokens), Volatile.Read(ref _paddedTokens), (double)Volatile.Read(ref _runTicks) / Stopwatch.Frequency)
    {
        FailedRuns = Volatile.Read(ref _failedRuns),
        AllocationFailures = Volatile.Read(ref _allocationFailures),
        Splits = Volatile.Read(ref _splits),
        Retries = Volatile.Read(ref _retries),
        Quarantined = Volatile.Read(ref _quarantined),
    };
}

/// <summary>
/// Wall time during which at least one model was running a batch, whatever the role or session: how busy the models
/// were kept. A pipeline whose CPU side starves the models shows it here first.
/// </summary>
internal sealed class ModelActivity
{
    private readonly object _gate = new();
    private int _active;
    private long _since;
    private long _busyTicks;

    public void Enter()
    {
        lock (_gate)
        {
            if (_active++ == 0)
            {
                _since = Stopwatch.GetTimestamp();
            }
        }
    }

    public void Exit()
    {
        lock (_gate)
        {
            if (--_active == 0)
            {
                _busyTicks += Stopwatch.GetTimestamp() - _since;
            }
        }
    }

    public TimeSpan Busy
    {
        get
        {
            lock (_gate)
            {
                var ticks = _busyTicks + (_active > 0 ? Stopwatch.GetTimestamp() - _since : 0);
                return TimeSpan.FromSeconds((double)ticks / Stopwatch.Frequency);
            }
        }
    }
}
