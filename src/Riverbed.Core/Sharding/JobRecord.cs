using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Riverbed.IO;

namespace Riverbed.Sharding;

/// <summary>
/// One work unit as a job record remembers it: output name, base name and absolute input path; for a unit of a file
/// split in several, the file's own name and the unit's range; its input bytes and the rank that owns it.
/// </summary>
public sealed record RecordedShard(string Name, string BaseName, string Path)
{
    /// <summary>The input file's own name (the <see cref="Name"/> of a whole-file unit).</summary>
    public string SourceName { get; init; } = Name;

    /// <summary>The part of the file this unit covers; null for a whole file.</summary>
    public UnitRange? Unit { get; init; }

    /// <summary>Input bytes the unit stands for (0 in records of the previous layout, which did not keep them).</summary>
    public long Bytes { get; init; }

    /// <summary>The rank that processes it under the recorded world size; null while the world size is unknown.</summary>
    public int? Rank { get; init; }

    /// <summary>The unit as an input again (the file as it is now, with the recorded range).</summary>
    public ShardInput ToInput()
    {
        var file = ShardInput.FromFile(Path, SourceName);
        return Unit is { } range ? file.ForUnit(range) : file;
    }

    /// <summary>How a unit is recorded, with its rank under <paramref name="rank"/>.</summary>
    public static RecordedShard Of(ShardInput input, int? rank)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new RecordedShard(input.Name, input.BaseName, input.Path)
        {
            SourceName = input.SourceName,
            Unit = input.Unit,
            Bytes = input.WorkBytes,
            Rank = rank,
        };
    }
}

/// <summary>
/// What an output folder was made from: every work unit of the sorted inputs (names, paths, ranges, bytes and the rank
/// each is dealt to), the list's hash, the unit size, the world size and the configuration hash, in
/// <c>{output}/.riverbed/assignment.json</c>. Every rank of every run checks it before touching a unit, so a rerun with
/// another world size, unit size, other inputs or another configuration is refused instead of silently processing some
/// units twice and others never; <c>riverbed status</c> reads it to know which units the output should hold. Runs over
/// a pinned list check their own small record per list (<c>lists/{hash}.json</c>) and leave the job's world size alone.
/// A record of the previous layout (<c>riverbed-assignment/1</c>: whole files, file i to rank i mod W) is still read,
/// with those ranks, so status, merge-stats, filter and report work on old folders; scoring into one is refused unless
/// forced (<see cref="IsPreviousLayout"/>).
/// </summary>
public sealed class JobRecord
{
    public const string FileName = "assignment.json";
    public const string FormatName = "riverbed-assignment/2";

    /// <summary>The record of the layout before work units: whole files, dealt round-robin.</summary>
    public const string PreviousFormatName = "riverbed-assignment/1";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The number of ranks the full shard list is dealt over; null when only pinned-list runs used the folder.</summary>
    public int? WorldSize { get; init; }

    public required string ShardListSha256 { get; init; }

    /// <summary>The configuration every shard in the folder is made with; null when no run recorded one.</summary>
    public string? ConfigHash { get; init; }

    /// <summary>Every input shard, sorted by name: the order shard i → rank i mod W uses.</summary>
    public required IReadOnlyList<RecordedShard> Shards { get; init; }

    public DateTime CreatedUtc { get; init; }

    /// <summary>The <c>--unit-size</c> files were split by; null when each file is one unit (a previous-layout record, or a run with --limit).</summary>
    public long? UnitSize { get; init; }

    /// <summary>Read from a <see cref="PreviousFormatName"/> record: whole files, ranks i mod W.</summary>
    public bool IsPreviousLayout { get; init; }

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
            var format = root.GetProperty("format").GetString();
            if (format != FormatName && format != PreviousFormatName)
            {
                throw new JobRecordException($"{path} is not a {FormatName} record ({format}); it was written by another version of Riverbed");
            }
            var previous = format == PreviousFormatName;
            var world = root.GetProperty("world_size");
            var config = root.GetProperty("config_hash");
            int? worldSize = world.ValueKind == JsonValueKind.Null ? null : world.GetInt32();
            var shards = root.GetProperty("shards").EnumerateArray()
                .Select((shard, index) => previous
                    ? new RecordedShard(shard.GetProperty("name").GetString()!, shard.GetProperty("base").GetString()!, shard.GetProperty("path").GetString()!)
                    {
                        Rank = worldSize is { } w ? index % w : null,
                    }
                    : ReadShard(shard))
                .ToList();
            return new JobRecord
            {
                WorldSize = worldSize,
                ShardListSha256 = root.GetProperty("shard_list_sha256").GetString()!,
                ConfigHash = config.ValueKind == JsonValueKind.Null ? null : config.GetString(),
                Shards = shards,
                CreatedUtc = DateTime.Parse(root.GetProperty("created_utc").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                UnitSize = !previous && root.GetProperty("unit_size") is { ValueKind: JsonValueKind.Number } size ? size.GetInt64() : null,
                IsPreviousLayout = previous,
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
        var path = PathIn(outputFolder);
        var existing = TryLoad(outputFolder);
        JobRecord Propose(int? world) => new()
        {
            WorldSize = world,
            ShardListSha256 = ShardAssignment.HashNames(sorted.Select(input => input.Name)),
            ConfigHash = configHash,
            Shards = Ranked(sorted, world),
            CreatedUtc = DateTime.UtcNow,
            UnitSize = assignment.UnitSize,
        };
        var proposed = Propose(pinned ? existing?.WorldSize : assignment.WorldSize);
        if (existing is null)
        {
            if (ControlFiles.CreateNew(path, proposed.ToJson()))
            {
                existing = proposed;
            }
            else
            {
                existing = TryLoad(outputFolder)!;
                proposed = Propose(pinned ? existing.WorldSize : assignment.WorldSize);
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
                    "units committed under another configuration are then reported stale and redone)");
            }
            var world = pinned ? existing.WorldSize : proposed.WorldSize;
            result = new JobRecord
            {
                WorldSize = world,
                ShardListSha256 = proposed.ShardListSha256,
                ConfigHash = proposed.ConfigHash,
                Shards = Ranked(sorted, world),
                CreatedUtc = proposed.CreatedUtc,
                UnitSize = proposed.UnitSize,
            };
            ControlFiles.Replace(path, result.ToJson());
        }
        else
        {
            // The recorded assignment is the plan: once the record has ranks they are never dealt again, so a rank that
            // starts later (or a rerun) does the units the first rank recorded for it even where the inputs would now
            // deal differently. Only what an earlier run could not know is filled in (a pinned run's world size, and so
            // the ranks; the configuration), and inputs that moved or changed under the same names are followed; every
            // rank computes the same record from the same one, so racing writers agree.
            var world = existing.WorldSize ?? proposed.WorldSize;
            var shards = existing.WorldSize is null ? Ranked(sorted, world) : KeepRanks(existing.Shards, proposed.Shards);
            if (existing.WorldSize != world || existing.ConfigHash is null || !existing.Shards.SequenceEqual(shards))
            {
                result = new JobRecord
                {
                    WorldSize = world,
                    ShardListSha256 = existing.ShardListSha256,
                    ConfigHash = proposed.ConfigHash,
                    Shards = shards,
                    CreatedUtc = existing.CreatedUtc,
                    UnitSize = existing.UnitSize,
                };
                ControlFiles.Replace(path, result.ToJson());
            }
            else
            {
                result = existing;
            }
        }
        if (assignment.PinnedFile is { } listFile)
        {
            CheckPinnedList(outputFolder, assignment, listFile, forceReassign);
        }
        return result;
    }

    /// <summary>The rank that owns unit <paramref name="index"/> under the recorded world size (null when unknown).</summary>
    public int? RankOf(int index) => Shards[index].Rank;

    /// <summary>The units as planned now (path, range, bytes), each with the rank the record gave the unit of that name.</summary>
    private static List<RecordedShard> KeepRanks(IReadOnlyList<RecordedShard> recorded, IReadOnlyList<RecordedShard> now)
    {
        var ranks = recorded.ToDictionary(shard => shard.Name, shard => shard.Rank, StringComparer.Ordinal);
        return now.Select(shard => shard with { Rank = ranks[shard.Name] }).ToList();
    }

    /// <summary>The units recorded with their ranks: dealt by size over <paramref name="world"/> ranks, as <see cref="ShardAssignment"/> deals them.</summary>
    private static List<RecordedShard> Ranked(IReadOnlyList<ShardInput> sorted, int? world)
    {
        var ranks = world is { } size ? ShardAssignment.LongestFirst(sorted.Select(input => input.WorkBytes).ToList(), size) : null;
        return sorted.Select((input, i) => RecordedShard.Of(input, ranks?[i])).ToList();
    }

    private static RecordedShard ReadShard(JsonElement shard)
    {
        var rank = shard.GetProperty("rank");
        UnitRange? unit = null;
        if (shard.TryGetProperty("unit", out var range) && range.ValueKind == JsonValueKind.Object)
        {
            unit = new UnitRange(
                Enum.Parse<UnitKind>(range.GetProperty("kind").GetString()!, ignoreCase: true),
                range.GetProperty("index").GetInt32(),
                range.GetProperty("count").GetInt32(),
                range.GetProperty("start").GetInt64(),
                range.GetProperty("end").GetInt64(),
                range.GetProperty("first_row").GetInt64(),
                range.GetProperty("first_line").GetInt64(),
                shard.GetProperty("bytes").GetInt64());
        }
        return new RecordedShard(shard.GetProperty("name").GetString()!, shard.GetProperty("base").GetString()!, shard.GetProperty("path").GetString()!)
        {
            SourceName = shard.GetProperty("file").GetString()!,
            Unit = unit,
            Bytes = shard.GetProperty("bytes").GetInt64(),
            Rank = rank.ValueKind == JsonValueKind.Null ? null : rank.GetInt32(),
        };
    }

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
            if (UnitSize is { } unitSize)
            {
                writer.WriteNumber("unit_size", unitSize);
            }
            else
            {
                writer.WriteNull("unit_size");
            }
            writer.WriteString("assignment", "work units by size, largest first, each to the rank with the fewest input bytes so far (its rank below)");
            writer.WriteStartArray("shards");
            foreach (var shard in Shards)
            {
                writer.WriteStartObject();
                writer.WriteString("name", shard.Name);
                writer.WriteString("base", shard.BaseName);
                writer.WriteString("file", shard.SourceName);
                writer.WriteString("path", shard.Path);
                writer.WriteNumber("bytes", shard.Bytes);
                if (shard.Rank is { } rank)
                {
                    writer.WriteNumber("rank", rank);
                }
                else
                {
                    writer.WriteNull("rank");
                }
                if (shard.Unit is { } unit)
                {
                    writer.WriteStartObject("unit");
                    writer.WriteString("kind", unit.Kind.ToString().ToLowerInvariant());
                    writer.WriteNumber("index", unit.Index);
                    writer.WriteNumber("count", unit.Count);
                    writer.WriteNumber("start", unit.Start);
                    writer.WriteNumber("end", unit.End);
                    writer.WriteNumber("first_row", unit.FirstRow);
                    writer.WriteNumber("first_line", unit.FirstLine);
                    writer.WriteEndObject();
                }
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
        if (IsPreviousLayout)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"it was written by an earlier Riverbed that gave each rank whole files round-robin ({PreviousFormatName}, {Shards.Count} file(s))") +
                "; status, merge-stats, filter and report still read it as it is, but this version splits big files into work units and deals them by size, " +
                "so it does not continue that job (with --force-reassign the record is replaced, and files that are one unit keep their complete outputs)");
            return problems;
        }
        if (UnitSize != proposed.UnitSize)
        {
            problems.Add(
                $"its files are split into work units of {(UnitSize is { } size ? UnitPlanner.FormatSize(size) : "whole files")}, this run's are " +
                $"{(proposed.UnitSize is { } now ? UnitPlanner.FormatSize(now) : "whole files (--limit)")}; rerun with --unit-size {(UnitSize is { } same ? UnitPlanner.FormatSize(same) : "of the first run, without --limit")}");
        }
        var recordedFiles = Shards.Select(shard => shard.SourceName).ToHashSet(StringComparer.Ordinal);
        var nowFiles = proposed.Shards.Select(shard => shard.SourceName).ToHashSet(StringComparer.Ordinal);
        if (UnitSize == proposed.UnitSize && recordedFiles.SetEquals(nowFiles)
            && !string.Equals(ShardListSha256, proposed.ShardListSha256, StringComparison.Ordinal))
        {
            var changed = proposed.Shards.Select(shard => shard.SourceName).Distinct()
                .Where(file => Shards.Count(shard => shard.SourceName == file) != proposed.Shards.Count(shard => shard.SourceName == file)).Take(3).ToList();
            problems.Add($"the same files now split into other work units ({string.Join(", ", changed)}): an input changed size since the job began");
        }
        else if (!recordedFiles.SetEquals(nowFiles))
        {
            var recorded = recordedFiles;
            var now = nowFiles;
            var added = now.Where(name => !recorded.Contains(name)).Order(StringComparer.Ordinal).ToList();
            var removed = recorded.Where(name => !now.Contains(name)).Order(StringComparer.Ordinal).ToList();
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"the inputs differ from the {recorded.Count} recorded file(s) ({Describe("added", added)}{(added.Count > 0 && removed.Count > 0 ? ", " : string.Empty)}{Describe("missing", removed)})"));
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
