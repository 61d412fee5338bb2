using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Riverbed.IO;

namespace Riverbed.Sharding;

/// <summary>One input shard as a job record remembers it: output name, base name and absolute input path.</summary>
public sealed record RecordedShard(string Name, string BaseName, string Path);

/// <summary>
/// What an output folder was made from: the sorted input shard list (names and paths), its hash, the world size the
/// shards are dealt over and the configuration hash, in <c>{output}/.riverbed/assignment.json</c>. Every rank of every
/// run checks it before touching a shard, so a rerun with another world size, other inputs or another configuration is
/// refused instead of silently processing some shards twice and others never; <c>riverbed status</c> reads it to know
/// which shards the output should hold. Runs over a pinned shard list check their own small record per list
/// (<c>lists/{hash}.json</c>) and leave the job's world size alone.
/// </summary>
public sealed class JobRecord
{
    public const string FileName = "assignment.json";
    public const string FormatName = "riverbed-assignment/1";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The number of ranks the full shard list is dealt over; null when only pinned-list runs used the folder.</summary>
    public int? WorldSize { get; init; }

    public required string ShardListSha256 { get; init; }

    /// <summary>The configuration every shard in the folder is made with; null when no run recorded one.</summary>
    public string? ConfigHash { get; init; }

    /// <summary>Every input shard, sorted by name: the order shard i → rank i mod W uses.</summary>
    public required IReadOnlyList<RecordedShard> Shards { get; init; }

    public DateTime CreatedUtc { get; init; }

    public static string PathIn(string outputFolder) => ControlFiles.PathOf(outputFolder, FileName);

    /// <summary>The folder's record, or null when none was written yet; a record that cannot be read is an error.</summary>
    public static JobRecord? TryLoad(string outputFolder)
    {
        var path = PathIn(outputFolder);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.GetProperty("format").GetString() != FormatName)
            {
                throw new JobRecordException($"{path} is not a {FormatName} record; it was written by another version of Riverbed");
            }
            var world = root.GetProperty("world_size");
            var config = root.GetProperty("config_hash");
            return new JobRecord
            {
                WorldSize = world.ValueKind == JsonValueKind.Null ? null : world.GetInt32(),
                ShardListSha256 = root.GetProperty("shard_list_sha256").GetString()!,
                ConfigHash = config.ValueKind == JsonValueKind.Null ? null : config.GetString(),
                Shards = root.GetProperty("shards").EnumerateArray()
                    .Select(shard => new RecordedShard(shard.GetProperty("name").GetString()!, shard.GetProperty("base").GetString()!,
                        shard.GetProperty("path").GetString()!))
                    .ToList(),
                CreatedUtc = DateTime.Parse(root.GetProperty("created_utc").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            };
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new JobRecordException($"{path} cannot be read as a job record ({error.Message}); delete it to start the job record afresh", error);
        }
    }

    /// <summary>
    /// Checks this run against the folder's record, writing the record when there is none (of ranks racing to create
    /// it, one wins and the others compare against it). A different input list, configuration or (for a full-list run)
    /// world size is refused unless <paramref name="forceReassign"/>, which replaces the record.
    /// </summary>
    public static JobRecord Establish(string outputFolder, ShardAssignment assignment, IReadOnlyList<ShardInput> allInputs,
        string configHash, bool forceReassign) => Establish(outputFolder, assignment, allInputs, configHash, forceReassign, null);

    /// <summary>
    /// As above; <paramref name="configuration"/> (this run's, whose hash is <paramref name="configHash"/>) lets a
    /// refusal name the settings that differ from the recorded job's.
    /// </summary>
    public static JobRecord Establish(string outputFolder, ShardAssignment assignment, IReadOnlyList<ShardInput> allInputs,
        string configHash, bool forceReassign, Pipeline.RunConfiguration? configuration)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(allInputs);
        var sorted = ShardAssignment.Sorted(allInputs);
        var pinned = assignment.PinnedFile is not null;
        var proposed = new JobRecord
        {
            WorldSize = pinned ? null : assignment.WorldSize,
            ShardListSha256 = ShardAssignment.HashNames(sorted.Select(input => input.Name)),
            ConfigHash = configHash,
            Shards = sorted.Select(input => new RecordedShard(input.Name, input.BaseName, input.Path)).ToList(),
            CreatedUtc = DateTime.UtcNow,
        };
        var path = PathIn(outputFolder);
        var existing = TryLoad(outputFolder);
        if (existing is null)
        {
            if (ControlFiles.CreateNew(path, proposed.ToJson()))
            {
                existing = proposed;
            }
            else
            {
                existing = TryLoad(outputFolder)!;
            }
        }
        var problems = existing.Differences(proposed, pinned, configuration, outputFolder);
        JobRecord result;
        if (problems.Count > 0)
        {
            if (!forceReassign)
            {
                throw new JobRecordException(
                    $"{Path.GetFullPath(outputFolder)} holds a job that does not match this run: {string.Join("; ", problems)}. " +
                    "Use another output folder, or pass --force-reassign to replace the record (only when no worker of the old job is still running; " +
                    "shards committed under another configuration are then reported stale and redone)");
            }
            result = new JobRecord
            {
                WorldSize = pinned ? existing.WorldSize : proposed.WorldSize,
                ShardListSha256 = proposed.ShardListSha256,
                ConfigHash = proposed.ConfigHash,
                Shards = proposed.Shards,
                CreatedUtc = proposed.CreatedUtc,
            };
            ControlFiles.Replace(path, result.ToJson());
        }
        else if ((existing.WorldSize is null && !pinned) || existing.ConfigHash is null || !existing.Shards.SequenceEqual(proposed.Shards))
        {
            // Fill in what an earlier run could not know (a pinned run's world size) or follow inputs that moved under
            // the same names; every rank computes the same record, so racing writers agree.
            result = new JobRecord
            {
                WorldSize = existing.WorldSize ?? proposed.WorldSize,
                ShardListSha256 = existing.ShardListSha256,
                ConfigHash = proposed.ConfigHash,
                Shards = proposed.Shards,
                CreatedUtc = existing.CreatedUtc,
            };
            ControlFiles.Replace(path, result.ToJson());
        }
        else
        {
            result = existing;
        }
        if (assignment.PinnedFile is { } listFile)
        {
            CheckPinnedList(outputFolder, assignment, listFile, forceReassign);
        }
        return result;
    }

    /// <summary>The rank that owns shard <paramref name="index"/> under the recorded world size (null when unknown).</summary>
    public int? RankOf(int index) => WorldSize is { } world ? index % world : null;

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("format", FormatName);
            if (WorldSize is { } world)
            {
                writer.WriteNumber("world_size", world);
            }
            else
            {
                writer.WriteNull("world_size");
            }
            writer.WriteString("shard_list_sha256", ShardListSha256);
            writer.WriteString("config_hash", ConfigHash);
            writer.WriteString("assignment", "shard i (in this order) goes to rank i mod world_size");
            writer.WriteStartArray("shards");
            foreach (var shard in Shards)
            {
                writer.WriteStartObject();
                writer.WriteString("name", shard.Name);
                writer.WriteString("base", shard.BaseName);
                writer.WriteString("path", shard.Path);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteString("created_utc", CreatedUtc.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private List<string> Differences(JobRecord proposed, bool pinned, Pipeline.RunConfiguration? configuration, string outputFolder)
    {
        var problems = new List<string>();
        if (!string.Equals(ShardListSha256, proposed.ShardListSha256, StringComparison.Ordinal))
        {
            var recorded = Shards.Select(shard => shard.Name).ToHashSet(StringComparer.Ordinal);
            var now = proposed.Shards.Select(shard => shard.Name).ToHashSet(StringComparer.Ordinal);
            var added = now.Where(name => !recorded.Contains(name)).Order(StringComparer.Ordinal).ToList();
            var removed = recorded.Where(name => !now.Contains(name)).Order(StringComparer.Ordinal).ToList();
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"the inputs differ from the {Shards.Count} recorded shard(s) ({Describe("added", added)}{(added.Count > 0 && removed.Count > 0 ? ", " : string.Empty)}{Describe("missing", removed)})"));
        }
        if (ConfigHash is { } recordedConfig && !string.Equals(recordedConfig, proposed.ConfigHash, StringComparison.Ordinal))
        {
            var what = configuration?.DescribeDifferencesFrom(outputFolder, recordedConfig)
                ?? $"{recordedConfig}; this run's is {proposed.ConfigHash}";
            problems.Add($"its shards are made with another configuration ({what}); " +
                "to finish that job rerun with the same options (see its run.json, or pass it with --config)");
        }
        if (!pinned && WorldSize is { } world && world != proposed.WorldSize)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"its shards are assigned over {world} rank(s), this run has world size {proposed.WorldSize}; changing it between reruns would process some shards twice and others never"));
        }
        return problems;
    }

    private static string Describe(string what, List<string> names) =>
        names.Count == 0 ? string.Empty
        : string.Create(CultureInfo.InvariantCulture, $"{names.Count} {what}: {string.Join(", ", names.Take(3))}{(names.Count > 3 ? ", …" : string.Empty)}");

    /// <summary>A pinned list's own world size is fixed the first time it runs, like the job's.</summary>
    private static void CheckPinnedList(string outputFolder, ShardAssignment assignment, string listFile, bool forceReassign)
    {
        var path = ControlFiles.PathOf(outputFolder, "lists/" + assignment.ListSha256[..16] + ".json");
        var json = PinnedJson(assignment, listFile);
        if (ControlFiles.CreateNew(path, json))
        {
            return;
        }
        int recordedWorld;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            recordedWorld = document.RootElement.GetProperty("world_size").GetInt32();
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException or IOException)
        {
            throw new JobRecordException($"{path} cannot be read as a shard-list record ({error.Message}); delete it to record the list afresh", error);
        }
        if (recordedWorld != assignment.WorldSize)
        {
            if (!forceReassign)
            {
                throw new JobRecordException(string.Create(CultureInfo.InvariantCulture,
                    $"the shard list {listFile} was run over {recordedWorld} rank(s) before, this run has world size {assignment.WorldSize}; use --world-size {recordedWorld}, or pass --force-reassign (only when no worker of the earlier run is still running)"));
            }
            ControlFiles.Replace(path, json);
        }
    }

    private static byte[] PinnedJson(ShardAssignment assignment, string listFile)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("format", "riverbed-shard-list/1");
            writer.WriteString("file", listFile);
            writer.WriteString("shard_list_sha256", assignment.ListSha256);
            writer.WriteNumber("shards", assignment.Shards.Count);
            writer.WriteNumber("world_size", assignment.WorldSize);
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}

/// <summary>An output folder whose job record refuses this run, or cannot be read.</summary>
public sealed class JobRecordException : RiverbedException
{
    public JobRecordException()
    {
    }

    public JobRecordException(string message)
        : base(message)
    {
    }

    public JobRecordException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
