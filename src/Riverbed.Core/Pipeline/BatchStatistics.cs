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

    public void Add(int requests, long realTokens, long paddedTokens, long runTicks)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _requests, requests);
        Interlocked.Add(ref _realTokens, realTokens);
        Interlocked.Add(ref _paddedTokens, paddedTokens);
        Interlocked.Add(ref _runTicks, runTicks);
    }

    public RoleBatchStatistics Snapshot() => new(role, sessions, budgetTokens, Volatile.Read(ref _batches), Volatile.Read(ref _requests),
        Volatile.Read(ref _realTokens), Volatile.Read(ref _paddedTokens), (double)Volatile.Read(ref _runTicks) / Stopwatch.Frequency);
}
