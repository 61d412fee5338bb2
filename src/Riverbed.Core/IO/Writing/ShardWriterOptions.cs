namespace Riverbed.IO;

/// <summary>How shards are written: where, in which format, with which extra columns, under which configuration.</summary>
public sealed class ShardWriterOptions
{
    /// <summary>Riverbed's own columns, written after the original ones in every output shard.</summary>
    public static IReadOnlyList<ColumnDefinition> StandardColumns { get; } =
    [
        new("riverbed_id", ColumnType.String),
        new("riverbed_source", ColumnType.String),
        new("riverbed_row", ColumnType.Int64),
    ];

    public required string OutputFolder { get; init; }

    public OutputFormat Format { get; init; } = OutputFormat.Parquet;

    /// <summary>Write kept rows under kept/ and removed rows under removed/&lt;reason&gt;/, by each row's decision.</summary>
    public bool SplitByDecision { get; init; }

    /// <summary>Typed columns the caller supplies a value for with every row (scores, spans, …), after the standard ones.</summary>
    public IReadOnlyList<ColumnDefinition> ExtraColumns { get; init; } = [];

    /// <summary>
    /// A hash of everything that determines the outputs (models, format, schema options): recorded in each
    /// manifest, so a rerun with another configuration never mixes its shards with this one's.
    /// </summary>
    public required string ConfigHash { get; init; }

    /// <summary>
    /// The decision rule of the rows (opaque text), recorded in each manifest apart from the hash: a complete shard
    /// decided by another rule is redone, not refused. Null when the writer's rows carry no decisions.
    /// </summary>
    public string? Decisions { get; init; }

    /// <summary>
    /// Suffixes of small documents committed with the shard as <c>{base}.{suffix}</c> (e.g. "stats.json"), given with
    /// <see cref="ShardWriter.Attach"/> and listed in the manifest like every other file. Declared up front so a new
    /// attempt also discards what an interrupted one left under those names.
    /// </summary>
    public IReadOnlyList<string> Attachments { get; init; } = [];

    /// <summary>How much of a rejected or failed record's raw bytes is kept in the rejects and failures files.</summary>
    public int MaxRawBytes { get; init; } = 4096;

    /// <summary>DuckDB threads used to write Parquet (1 keeps output bytes reproducible run to run).</summary>
    public int DuckDbThreads { get; init; } = 1;

    /// <summary>DuckDB's memory limit while a shard is staged for Parquet output; beyond it DuckDB spills to disk.</summary>
    public string DuckDbMemoryLimit { get; init; } = "2GB";

    /// <summary>The columns every row carries after its original ones.</summary>
    public IReadOnlyList<ColumnDefinition> AllColumns => [.. StandardColumns, .. ExtraColumns];

    public ShardLayout LayoutFor(ShardInput input) => new(OutputFolder, input.BaseName, Format, SplitByDecision);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputFolder))
        {
            throw new RiverbedException("an output folder is required");
        }
        if (string.IsNullOrWhiteSpace(ConfigHash))
        {
            throw new RiverbedException("a configuration hash is required");
        }
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var column in AllColumns)
        {
            if (!names.Add(column.Name))
            {
                throw new RiverbedException($"output column '{column.Name}' is declared twice (or clashes with a standard column)");
            }
        }
        foreach (var suffix in Attachments)
        {
            if (string.IsNullOrWhiteSpace(suffix) || suffix.Contains('/', StringComparison.Ordinal) || suffix.StartsWith('.')
                || suffix is "manifest.json" or "rejects.jsonl" or "failures.jsonl" or "parquet" or "jsonl")
            {
                throw new RiverbedException($"'{suffix}' cannot name a shard attachment (empty, a path, or one of the shard's own files)");
            }
        }
        if (Attachments.Distinct(StringComparer.Ordinal).Count() != Attachments.Count)
        {
            throw new RiverbedException("a shard attachment is declared twice");
        }
        if (DuckDbThreads < 1)
        {
            throw new RiverbedException("DuckDB threads must be at least 1");
        }
    }
}

/// <summary>A shard that could not be written or committed; nothing final-named is left behind for it.</summary>
public class ShardWriteException : RiverbedException
{
    public ShardWriteException()
    {
    }

    public ShardWriteException(string message)
        : base(message)
    {
    }

    public ShardWriteException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
