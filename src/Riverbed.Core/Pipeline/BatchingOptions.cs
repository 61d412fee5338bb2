using System.Globalization;

namespace Riverbed.Pipeline;

/// <summary>
/// How model requests are grouped into batches. A batch's cost is its padded size (requests × longest request); it
/// stays within <see cref="BatchTokens"/> unless a single request is longer on its own.
/// </summary>
public sealed record BatchingOptions
{
    public const int DefaultBatchTokens = 4096;

    /// <summary>Padded tokens per batch (<c>--batch-tokens</c>).</summary>
    public int BatchTokens { get; init; } = DefaultBatchTokens;

    /// <summary>Most requests in one batch, whatever their length.</summary>
    public int MaxBatchSize { get; init; } = 512;

    /// <summary>Sort requests by length inside the window before cutting it into batches (less padding).</summary>
    public bool SortByLength { get; init; } = true;

    /// <summary>The sort window, in batches' worth of pending tokens: requests are only reordered within it.</summary>
    public int SortWindowBatches { get; init; } = 4;

    /// <summary>
    /// An idle session takes a partly filled batch once no request has arrived for this long: every in-flight example
    /// may be waiting on that very batch, so waiting longer could only stall the run.
    /// </summary>
    public TimeSpan FlushDelay { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>The longest an idle session waits for a batch to fill while requests keep trickling in.</summary>
    public TimeSpan MaxLinger { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// For roles off the critical path (everything but the MLM, whose batches gate every example): an idle session
    /// takes a partly filled batch once no request has arrived for this long. Their requests come in bursts behind the
    /// MLM's answers, so a little more patience fills batches that would otherwise leave part-empty.
    /// </summary>
    public TimeSpan OffPathFlushDelay { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest an idle session of a role off the critical path waits for a batch to fill.</summary>
    public TimeSpan OffPathMaxLinger { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The sort window of roles off the critical path, in batches' worth of pending tokens.</summary>
    public int OffPathSortWindowBatches { get; init; } = 8;

    /// <summary>
    /// Identical NLI requests (same premise and hypothesis ids, common in templated datasets) are answered once per run:
    /// the most distinct requests remembered, oldest forgotten first; 0 turns the cache off.
    /// </summary>
    public int NliCacheEntries { get; init; } = 16384;

    /// <summary>
    /// A per-model limit on the logits one batch may produce: a masked LM returns [B,T,V] floats, so its token budget
    /// is capped at this many bytes divided by V × 4 (about 4,400 tokens for a 30k vocabulary at 512 MiB).
    /// </summary>
    public long MaxLogitsBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>
    /// How often a request that failed alone to allocate memory is run again alone before its example is failed. A
    /// single request's allocation can fail for a moment (another session's batch holds the memory), so it gets a
    /// second and third chance; a request too large for the device fails every time and is failed after these.
    /// </summary>
    public int AllocationRetriesAlone { get; init; } = 2;

    /// <summary>
    /// Failed runs in a row on one session (no run succeeding in between) after which the session checks that the
    /// runtime still works, by running again a request that succeeded on it before: if that fails too the run stops
    /// (<see cref="InferenceFaultException"/>) instead of failing every example one by one. Bad requests side by side
    /// in a batch fail in a row as well (one halving each, plus retries), which is why the check exists rather than a
    /// plain limit; 32 keeps the checks rare while a broken device stops within a batch or two.
    /// </summary>
    public int MaxConsecutiveFailedRuns { get; init; } = 32;

    public void Validate()
    {
        Require(BatchTokens >= 1, $"{SettingNames.Of(Setting.BatchTokens)} must be at least 1 (got {BatchTokens})");
        Require(MaxBatchSize >= 1, $"the largest batch must hold at least 1 request (got {MaxBatchSize})");
        Require(SortWindowBatches >= 1, $"the sort window must span at least 1 batch (got {SortWindowBatches})");
        Require(FlushDelay >= TimeSpan.Zero && MaxLinger >= FlushDelay, "the flush delay must be >= 0 and at most the longest linger");
        Require(OffPathSortWindowBatches >= 1, $"the sort window off the critical path must span at least 1 batch (got {OffPathSortWindowBatches})");
        Require(OffPathFlushDelay >= TimeSpan.Zero && OffPathMaxLinger >= OffPathFlushDelay,
            "the flush delay off the critical path must be >= 0 and at most its longest linger");
        Require(NliCacheEntries >= 0, $"the NLI cache holds 0 or more requests (got {NliCacheEntries})");
        Require(MaxLogitsBytes >= 1, "the logits limit must be positive");
        Require(AllocationRetriesAlone >= 0, $"allocation retries must be 0 or more (got {AllocationRetriesAlone})");
        Require(MaxConsecutiveFailedRuns >= 1, $"the limit of failed runs in a row must be at least 1 (got {MaxConsecutiveFailedRuns})");
    }

    /// <summary>The token budget for a model whose logits hold <paramref name="valuesPerToken"/> values of <paramref name="bytesPerValue"/> bytes per token.</summary>
    public int BudgetFor(long valuesPerToken, int bytesPerValue)
    {
        if (valuesPerToken <= 1)
        {
            return BatchTokens;
        }
        var byLogits = MaxLogitsBytes / (valuesPerToken * bytesPerValue);
        return (int)Math.Clamp(byLogits, 1, BatchTokens);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"batch-tokens={BatchTokens} max-batch={MaxBatchSize} sort={(SortByLength ? "on" : "off")} window={SortWindowBatches}");

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new RiverbedException(message);
        }
    }
}
