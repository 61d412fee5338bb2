using Riverbed.IO;

namespace Riverbed.Pipeline;

/// <summary>What became of one shard in a run.</summary>
public enum ShardRunStatus
{
    /// <summary>Scored and committed.</summary>
    Committed,

    /// <summary>Already complete with this configuration: left as it was.</summary>
    Skipped,

    /// <summary>Could not be read or written; nothing of it was committed (a rerun retries it).</summary>
    Failed,

    /// <summary>Not started: the run was asked to stop taking new shards first (a rerun does it).</summary>
    Stopped,
}

/// <summary>One shard's outcome, with its manifest and statistics when it is complete.</summary>
public sealed record ShardRunResult(ShardInput Input, ShardRunStatus Status, string Message, ShardManifest? Manifest, ScoreStatistics? Statistics)
{
    /// <summary>
    /// Failed only because another worker holds the shard's lock (it is writing it): this worker did not do it, but
    /// nothing is wrong with the shard, so no failure is recorded for it.
    /// </summary>
    public bool HeldByAnother { get; init; }

    /// <summary>A problem beside the outcome that the user should see (e.g. the shard's failure marker could not be written).</summary>
    public string? Note { get; init; }
}

/// <summary>A finished run: every shard's outcome, the batching, and the wall time.</summary>
/// <param name="ModelBusy">Wall time during which at least one model was running a batch.</param>
public sealed record ScoreRunResult(IReadOnlyList<ShardRunResult> Shards, IReadOnlyList<RoleBatchStatistics> Batching, TimeSpan Elapsed,
    TimeSpan ModelBusy)
{
    public int Failed => Shards.Count(s => s.Status == ShardRunStatus.Failed);

    /// <summary>Shards not started because intake was stopped (a graceful stop); a rerun does them.</summary>
    public int Stopped => Shards.Count(s => s.Status == ShardRunStatus.Stopped);

    /// <summary>Statistics of the shards this run committed (skipped ones not included).</summary>
    public ScoreStatistics Committed
    {
        get
        {
            var total = new ScoreStatistics();
            foreach (var shard in Shards.Where(s => s.Status == ShardRunStatus.Committed && s.Statistics is not null))
            {
                total.Merge(shard.Statistics!);
            }
            return total;
        }
    }
}
