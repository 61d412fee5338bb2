using System.Text.Json;
using System.Text.Json.Serialization;
using Riverbed.IO;
using Riverbed.Scoring;

namespace Riverbed.Pipeline;

/// <summary>
/// run.json (format <c>riverbed-run/1</c>) as its file holds it: the one type every writer (a scoring or filter run,
/// merge-stats for a job of several ranks) and every reader (<c>--config</c>, filter, merge-stats, the report) goes
/// through, serialized by <see cref="RunRecordJson"/>. Properties are declared in file order. Readers take what is
/// there: blocks a kind of record does not write (a job's "ranks", a rank's "batching") are null.
/// </summary>
public sealed record RunRecordDocument
{
    public const string FormatName = RunRecord.Format;

    public string Format { get; init; } = FormatName;

    public string? RiverbedVersion { get; init; }

    [JsonPropertyName("onnxruntime_version")]
    public string? OnnxRuntimeVersion { get; init; }

    public string? DotnetVersion { get; init; }

    public DateTime? StartedUtc { get; init; }

    public DateTime? FinishedUtc { get; init; }

    public IReadOnlyList<string> CommandLine { get; init; } = [];

    public IReadOnlyList<string> Inputs { get; init; } = [];

    public string? Output { get; init; }

    /// <summary>
    /// The configuration (<see cref="ConfigDocument"/> for runs Riverbed writes); kept as the element read, because the
    /// report shows whatever a record holds and looks for the policy in the forms other tools write.
    /// </summary>
    public JsonElement? Config { get; init; }

    public string? ConfigHash { get; init; }

    /// <summary>For a filter run, the scored folder it read.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Source { get; init; }

    /// <summary>Each model role's folder and files (size and SHA-256), in role order.</summary>
    public IReadOnlyDictionary<string, RunModel>? Models { get; init; }

    /// <summary>The rank that wrote the record; absent from a job's merged record.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Rank { get; init; }

    public int? WorldSize { get; init; }

    public RunShardCounts? Shards { get; init; }

    public RunThroughput? Throughput { get; init; }

    /// <summary>How each model role's work was batched; absent from a job's merged record (it does not add up).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, RunBatching>? Batching { get; init; }

    /// <summary>A job's merged record: one entry per rank record it was made from.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<RunRankEntry>? Ranks { get; init; }

    /// <summary>
    /// The record of a job of several ranks, made from its ranks' records (<paramref name="ranks"/>: each record's file
    /// name under runs/ and its content, all of one configuration): the latest record's versions, command line,
    /// configuration and models; the job's inputs; shard counts summed; wall time from the first start to the last
    /// finish; one entry per rank. A rank's batching is left in its own record (it does not add up).
    /// </summary>
    public static RunRecordDocument ForJob(IReadOnlyList<(string Name, RunRecordDocument Record)> ranks, IReadOnlyList<string> inputs, int? worldSize,
        int totalShards, int completeShards)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        if (ranks.Count == 0)
        {
            throw new ArgumentException("a job's record needs at least one rank record", nameof(ranks));
        }
        static DateTime Time(DateTime? time, string name) => time ?? throw new JsonException($"a rank record lacks {name}");
        var started = ranks.Min(r => Time(r.Record.StartedUtc, "started_utc"));
        var finished = ranks.Max(r => Time(r.Record.FinishedUtc, "finished_utc"));
        var latest = ranks.OrderBy(r => Time(r.Record.FinishedUtc, "finished_utc")).Last().Record;
        var wall = Math.Max(0, (finished - started).TotalSeconds);
        var examples = ranks.Sum(r => r.Record.Throughput?.Examples ?? 0);
        return latest with
        {
            StartedUtc = started,
            FinishedUtc = finished,
            Inputs = inputs,
            Rank = null,
            Batching = null,
            WorldSize = worldSize,
            Shards = new RunShardCounts
            {
                Total = totalShards,
                Complete = completeShards,
                Committed = ranks.Sum(r => r.Record.Shards?.Committed ?? 0),
                Skipped = ranks.Sum(r => r.Record.Shards?.Skipped ?? 0),
                Failed = ranks.Sum(r => r.Record.Shards?.Failed ?? 0),
            },
            Throughput = new RunThroughput
            {
                WallSeconds = Math.Round(wall, 3),
                Examples = examples,
                ExamplesPerSecond = wall > 0 ? Math.Round(examples / wall, 3) : 0,
            },
            Ranks = [.. ranks.Select(r => new RunRankEntry("runs/" + r.Name, r.Record.Rank, r.Record.WorldSize, r.Record.StartedUtc, r.Record.FinishedUtc,
                r.Record.Shards, r.Record.Throughput))],
        };
    }

    /// <summary>The configuration as Riverbed writes it; null when the record has none.</summary>
    public ConfigDocument? ReadConfiguration() =>
        Config is { ValueKind: JsonValueKind.Object } config ? config.Deserialize(RunRecordJson.Compact.ConfigDocument) : null;

    public byte[] ToFile() => PersistedJson.ToFile(this, RunRecordJson.Indented.RunRecordDocument);

    /// <summary>Reads a run record; <see cref="JsonException"/> when it is not JSON of this shape, IO errors as they come.</summary>
    public static RunRecordDocument Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, RunRecordJson.Indented.RunRecordDocument) ?? throw new JsonException("run.json holds null");
}

/// <summary>One model role in run.json: its folder, its files, and where a pulled folder came from.</summary>
public sealed record RunModel
{
    public string? Folder { get; init; }

    public IReadOnlyDictionary<string, RunModelFile> Files { get; init; } = new Dictionary<string, RunModelFile>();

    /// <summary>The folder's source.json as it is (that file's own codec, Inference's <c>ModelSource</c>, writes it).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Source { get; init; }
}

public sealed record RunModelFile(long? Bytes, string? Sha256);

/// <summary>Shards a run committed, skipped and failed; a job's merged record adds the job's total and complete.</summary>
public sealed record RunShardCounts
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Total { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Complete { get; init; }

    public long Committed { get; init; }

    public long Skipped { get; init; }

    public long Failed { get; init; }
}

/// <summary>Throughput, rounded as written (seconds to the millisecond, rates to 3 decimals, tokens per second to 1).</summary>
public sealed record RunThroughput
{
    public double? WallSeconds { get; init; }

    public long? Examples { get; init; }

    public double? ExamplesPerSecond { get; init; }

    /// <summary>Absent from a job's merged record (each rank's batching is in its own record).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? RealTokensPerSecond { get; init; }
}

/// <summary>How one model role's work was batched (see <see cref="RoleBatchStatistics"/>).</summary>
public sealed record RunBatching
{
    public int? Sessions { get; init; }

    public int? BudgetTokens { get; init; }

    public long? Batches { get; init; }

    public long? Requests { get; init; }

    public long? RealTokens { get; init; }

    public long? PaddedTokens { get; init; }

    public double? PaddingFraction { get; init; }

    public double? BatchFill { get; init; }

    public double? RunSeconds { get; init; }

    public long? FailedRuns { get; init; }

    public long? AllocationFailures { get; init; }

    public long? Splits { get; init; }

    public long? Retries { get; init; }

    public long? Quarantined { get; init; }
}

/// <summary>One rank's part in a job's merged record: its record file, times, shards and throughput.</summary>
public sealed record RunRankEntry(string Record, int? Rank, int? WorldSize, DateTime? StartedUtc, DateTime? FinishedUtc, RunShardCounts? Shards,
    RunThroughput? Throughput);

/// <summary>
/// run.json's "config" object, and (compact, without what does not change outputs) the text the configuration hash is
/// computed from: the options records are serialized as they are, so an option added to them is recorded and hashed.
/// Properties in file order.
/// </summary>
public sealed record ConfigDocument
{
    public string Columns { get; init; } = RunConfiguration.ColumnsVersion;

    /// <summary>"parquet" or "jsonl".</summary>
    [JsonRequired]
    public required string Format { get; init; }

    [JsonRequired]
    public bool Split { get; init; }

    [JsonRequired]
    public long? Limit { get; init; }

    [JsonRequired]
    public required SchemaOptions Schema { get; init; }

    [JsonRequired]
    public required ReaderLimits Limits { get; init; }

    [JsonRequired]
    public required ScoringOptions Scoring { get; init; }

    /// <summary>The decisions; left out of the hash (a rerun with other thresholds re-decides instead of being refused).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ConfigPolicy? Policy { get; init; }

    [JsonRequired]
    public required ConfigModels Models { get; init; }

    /// <summary>How the run executes; left out of the hash (outputs do not depend on it).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ExecutionSettings? Execution { get; init; }
}

/// <summary>The decision policy as run.json records it: "any" or "all", and the thresholds as written on the command line.</summary>
public sealed record ConfigPolicy([property: JsonRequired] string Combine, [property: JsonRequired] IReadOnlyList<string> Thresholds);

/// <summary>The models: their folder (left out of the hash: paths do not change outputs) and every file's SHA-256 per role.</summary>
public sealed record ConfigModels
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Folder { get; init; }

    [JsonRequired]
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Roles { get; init; }
}

/// <summary>run.json's types, for the file (indented) and for the configuration hash (compact).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(RunRecordDocument))]
[JsonSerializable(typeof(ConfigDocument))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class RunRecordJson : JsonSerializerContext
{
    public static RunRecordJson Indented { get; } = new(PersistedJson.Options());

    public static RunRecordJson Compact { get; } = new(PersistedJson.Options(indented: false));
}
