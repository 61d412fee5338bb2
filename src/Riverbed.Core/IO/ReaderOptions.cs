using System.Text.Json;
using System.Text.Json.Serialization;

namespace Riverbed.IO;

/// <summary>
/// Limits that keep one bad or hostile record from exhausting memory or the stack. Serialized as it is into run.json's
/// "limits" block and the configuration hash (they decide which records are rejected).
/// </summary>
public sealed record ReaderLimits
{
    /// <summary>Longest line (JSON Lines) or element (JSON array) read, in bytes; longer ones are rejected as line_too_long.</summary>
    [JsonRequired]
    public int MaxLineBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// The highest --max-depth accepted. Every later step that parses or writes a record again (the writers, filter)
    /// uses <see cref="ValidatedRecord"/>, whose limit is this ceiling, so a record the reader accepted can never be
    /// refused (or crash the job) downstream: the depth limit is enforced once, where the record is read. 1000 is
    /// System.Text.Json's writer limit, and shallow enough for the recursive walks over a record.
    /// </summary>
    public const int DepthCeiling = 1000;

    /// <summary>Options for parsing a record that already passed the reader's limits (never refuses one of them).</summary>
    public static JsonDocumentOptions ValidatedRecord => new() { MaxDepth = DepthCeiling };

    /// <summary>Deepest nesting of objects and arrays in a record; deeper records are rejected as too_deep.</summary>
    [JsonRequired]
    public int MaxDepth { get; init; } = 128;

    /// <summary>
    /// Most bytes a compressed file may decompress to. Past it the shard fails (the remaining records cannot be counted,
    /// so they cannot be accounted for as rejects).
    /// </summary>
    [JsonRequired]
    public long MaxDecompressedBytes { get; init; } = 64L * 1024 * 1024 * 1024;

    /// <summary>How much of a rejected record's raw bytes is kept in the reject.</summary>
    [JsonRequired]
    public int MaxRawBytesInReject { get; init; } = 4096;

    public void Validate()
    {
        if (MaxLineBytes < 2)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.MaxLineBytes)} must be at least 2 (got {MaxLineBytes})");
        }
        if (MaxDepth is < 1 or > DepthCeiling)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.MaxDepth)} must be between 1 and {DepthCeiling} (got {MaxDepth})");
        }
        if (MaxDecompressedBytes < 1)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.MaxDecompressedBytes)} must be positive (got {MaxDecompressedBytes})");
        }
        if (MaxRawBytesInReject < 0)
        {
            throw new RiverbedException($"the raw-bytes cap for rejects cannot be negative (got {MaxRawBytesInReject})");
        }
    }
}

/// <summary>How shards are read: the schema and the limits.</summary>
public sealed record ReaderOptions
{
    public SchemaOptions Schema { get; init; } = new();

    public ReaderLimits Limits { get; init; } = new();

    /// <summary>DuckDB worker threads for Parquet scans (1 keeps reads single-threaded and predictable).</summary>
    public int ParquetThreads { get; init; } = 1;

    public void Validate()
    {
        Schema.Validate();
        Limits.Validate();
        if (ParquetThreads < 1)
        {
            throw new RiverbedException($"Parquet threads must be at least 1 (got {ParquetThreads})");
        }
    }
}

/// <summary>Counts for one shard, complete once its records have all been read.</summary>
public sealed class ShardReadStatistics
{
    private readonly Dictionary<RejectKind, long> _rejectsByKind = [];

    /// <summary>Records seen: examples plus rejects (blank lines are not records).</summary>
    public long Records => Examples + Rejected;

    public long Examples { get; internal set; }

    public long Rejected { get; internal set; }

    /// <summary>Whitespace-only lines in JSON Lines files: skipped, counted here so nothing goes unmentioned.</summary>
    public long BlankLines { get; internal set; }

    public long SystemTurns { get; internal set; }

    public long UserTurns { get; internal set; }

    public long AssistantTurns { get; internal set; }

    /// <summary>Tool outputs and tool calls (context, not assistant prose).</summary>
    public long ToolTurns { get; internal set; }

    public long Turns => SystemTurns + UserTurns + AssistantTurns + ToolTurns;

    public IReadOnlyDictionary<RejectKind, long> RejectsByKind => _rejectsByKind;

    /// <summary>Counts one record as a reader would (for readers that are not files, e.g. in tests of the pipeline).</summary>
    public void Add(ShardRecord record)
    {
        if (record.Example is { } example)
        {
            CountExample(example);
        }
        else
        {
            CountReject(record.Reject!.Kind);
        }
    }

    internal void CountReject(RejectKind kind)
    {
        Rejected++;
        _rejectsByKind[kind] = _rejectsByKind.GetValueOrDefault(kind) + 1;
    }

    internal void CountExample(Example example)
    {
        Examples++;
        foreach (var turn in example.Turns)
        {
            switch (turn.Role)
            {
                case TurnRole.System:
                    SystemTurns++;
                    break;
                case TurnRole.User:
                    UserTurns++;
                    break;
                case TurnRole.Tool or TurnRole.ToolCall:
                    ToolTurns++;
                    break;
                default:
                    AssistantTurns++;
                    break;
            }
        }
    }
}

/// <summary>A shard that cannot be read at all (corrupt Parquet, truncated gzip, undetectable schema, …).</summary>
public sealed class ShardReadException : RiverbedException
{
    public ShardReadException()
    {
    }

    public ShardReadException(string message)
        : base(message)
    {
    }

    public ShardReadException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
