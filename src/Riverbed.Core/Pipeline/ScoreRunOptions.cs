using Riverbed.IO;
using Riverbed.Scoring;

namespace Riverbed.Pipeline;

/// <summary>Everything a scoring run needs besides its inputs and models.</summary>
public sealed record ScoreRunOptions
{
    /// <summary>The attachment suffix of each shard's statistics: {base}.stats.json, committed with the shard.</summary>
    public const string StatsAttachment = "stats.json";

    public required string OutputFolder { get; init; }

    /// <summary>Recorded in every manifest: a rerun with another configuration refuses to mix shards (see RunConfiguration).</summary>
    public required string ConfigHash { get; init; }

    /// <summary>The run's whole configuration, when known: it lets a refusal name the settings that differ.</summary>
    public RunConfiguration? Configuration { get; init; }

    public OutputFormat Format { get; init; } = OutputFormat.Parquet;

    /// <summary>Write kept/ and removed/{score}/ instead of one shard per input.</summary>
    public bool Split { get; init; }

    public ReaderOptions Reader { get; init; } = new();

    public ScoringOptions Scoring { get; init; } = ScoringOptions.Default;

    public DecisionPolicy Policy { get; init; } = DecisionPolicy.Default;

    public BatchingOptions Batching { get; init; } = new();

    /// <summary>Read at most this many records of each shard (a trial run); null reads everything.</summary>
    public long? Limit { get; init; }

    /// <summary>
    /// Examples being scored at once; it is also the reorder window (rows are written in input order, so a slow
    /// example holds back at most this many finished ones). Enough to fill every role's batches several times over.
    /// </summary>
    public int MaxExamplesInFlight { get; init; } = 512;

    /// <summary>
    /// Failed rows a shard may have before it stops and fails uncommitted (<c>--max-failures</c>). Not part of the
    /// configuration hash: it changes which shards commit, never what a committed shard holds.
    /// </summary>
    public RejectBudget MaxFailures { get; init; } = RejectBudget.DefaultFailures;

    /// <summary>Rejects a shard may have before it fails instead of committing (<c>--max-rejects</c>; no limit by default).</summary>
    public RejectBudget Rejects { get; init; } = RejectBudget.Unlimited;

    /// <summary>Who writes: recorded in the failure marker of each shard this run fails (rank 0 of 1 for a single process).</summary>
    public WriterIdentity Writer { get; init; } = WriterIdentity.Single;

    public void Validate()
    {
        Reader.Validate();
        Scoring.Validate();
        Batching.Validate();
        if (Limit is < 1)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.Limit)} must be at least 1 (got {Limit})");
        }
        if (MaxExamplesInFlight < 1)
        {
            throw new RiverbedException($"examples in flight must be at least 1 (got {MaxExamplesInFlight})");
        }
        WriterOptions().Validate();
    }

    /// <summary>What each shard's committer needs: the writer options, both budgets, and who writes.</summary>
    public ShardCommitOptions CommitOptions() => new()
    {
        Writer = WriterOptions(),
        Rejects = Rejects,
        Failures = MaxFailures,
        Identity = Writer,
    };

    public ShardWriterOptions WriterOptions() => new()
    {
        OutputFolder = OutputFolder,
        Format = Format,
        SplitByDecision = Split,
        ExtraColumns = ScoredColumns.All,
        ConfigHash = ConfigHash,
        Decisions = Policy.ToString(),
        MaxRawBytes = Reader.Limits.MaxRawBytesInReject,
        Attachments = [StatsAttachment],
    };
}
