using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
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
/// forced (<see cref="IsPreviousLayout"/>). Its file is written and read only here, through <see cref="JobDocument"/>
/// and <see cref="JobRecordJson"/>.
/// </summary>
public sealed class JobRecord
{
    public const string FileName = "assignment.json";
    public const string FormatName = "riverbed-assignment/2";

    /// <summary>The record of the layout before work units: whole files, dealt round-robin.</summary>
    public const string PreviousFormatName = "riverbed-assignment/1";

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
            var document = JsonSerializer.Deserialize(bytes, JobRecordJson.Persisted.JobDocument) ?? throw new JsonException("the record is null");
            if (document.Format != FormatName && document.Format != PreviousFormatName)
            {
                throw new JobRecordException($"{path} is not a {FormatName} record ({document.Format}); it was written by another version of Riverbed");
            }
            var previous = document.Format == PreviousFormatName;
            return new JobRecord
            {
                WorldSize = document.WorldSize,
                ShardListSha256 = document.ShardListSha256,
                ConfigHash = document.ConfigHash,
                Shards = [.. document.Shards.Select((shard, index) => previous
                    ? new RecordedShard(shard.Name, shard.Base, shard.Path) { Rank = document.WorldSize is { } w ? index % w : null }
                    : ReadShard(shard))],
                CreatedUtc = document.CreatedUtc,
                UnitSize = previous ? null : document.UnitSize,
                IsPreviousLayout = previous,
            };
        }
        catch (Exception error) when (error is JsonException or ArgumentException)
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
                    $"Use another output folder, or pass {SettingNames.Of(Setting.ForceReassign)} to replace the record (only when no worker of the old job is still running; " +
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

    private static RecordedShard ReadShard(JobUnit shard)
    {
        var bytes = shard.Bytes ?? throw new JsonException($"unit {shard.Name} lacks its bytes");
        var unit = shard.Unit is { } range
            ? new UnitRange(Enum.Parse<UnitKind>(range.Kind, ignoreCase: true), range.Index, range.Count, range.Start, range.End, range.FirstRow, range.FirstLine, bytes)
            : null;
        return new RecordedShard(shard.Name, shard.Base, shard.Path)
        {
            SourceName = shard.File ?? throw new JsonException($"unit {shard.Name} lacks its file"),
            Unit = unit,
            Bytes = bytes,
            Rank = shard.Rank,
        };
    }

    public byte[] ToJson() => PersistedJson.ToFile(new JobDocument
    {
        Format = FormatName,
        WorldSize = WorldSize,
        ShardListSha256 = ShardListSha256,
        ConfigHash = ConfigHash,
        UnitSize = UnitSize,
        Assignment = "work units by size, largest first, each to the rank with the fewest input bytes so far (its rank below)",
        Shards = [.. Shards.Select(shard => new JobUnit
        {
            Name = shard.Name,
            Base = shard.BaseName,
            File = shard.SourceName,
            Path = shard.Path,
            Bytes = shard.Bytes,
            Rank = shard.Rank,
            Unit = shard.Unit is { } unit
                ? new JobUnitRange(unit.Kind.ToString().ToLowerInvariant(), unit.Index, unit.Count, unit.Start, unit.End, unit.FirstRow, unit.FirstLine)
                : null,
        })],
        CreatedUtc = CreatedUtc,
    }, JobRecordJson.Persisted.JobDocument);

    private List<string> Differences(JobRecord proposed, bool pinned, Pipeline.RunConfiguration? configuration, string outputFolder)
    {
        var problems = new List<string>();
        if (IsPreviousLayout)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"it was written by an earlier Riverbed that gave each rank whole files round-robin ({PreviousFormatName}, {Shards.Count} file(s))") +
                "; status, merge-stats, filter and report still read it as it is, but this version splits big files into work units and deals them by size, " +
                $"so it does not continue that job (with {SettingNames.Of(Setting.ForceReassign)} the record is replaced, and files that are one unit keep their complete outputs)");
            return problems;
        }
        if (UnitSize != proposed.UnitSize)
        {
            problems.Add(
                $"its files are split into work units of {(UnitSize is { } size ? UnitPlanner.FormatSize(size) : "whole files")}, this run's are " +
                $"{(proposed.UnitSize is { } now ? UnitPlanner.FormatSize(now) : $"whole files ({SettingNames.Of(Setting.Limit)})")}; rerun with {SettingNames.Of(Setting.UnitSize)} {(UnitSize is { } same ? UnitPlanner.FormatSize(same) : $"of the first run, without {SettingNames.Of(Setting.Limit)}")}");
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
                $"to finish that job rerun with the same options (see its run.json, or pass it with {SettingNames.Of(Setting.Config)})");
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
            recordedWorld = (JsonSerializer.Deserialize(File.ReadAllBytes(path), JobRecordJson.Persisted.PinnedListDocument)
                ?? throw new JsonException("the record is null")).WorldSize;
        }
        catch (Exception error) when (error is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new JobRecordException($"{path} cannot be read as a shard-list record ({error.Message}); delete it to record the list afresh", error);
        }
        if (recordedWorld != assignment.WorldSize)
        {
            if (!forceReassign)
            {
                throw new JobRecordException(string.Create(CultureInfo.InvariantCulture,
                    $"the shard list {listFile} was run over {recordedWorld} rank(s) before, this run has world size {assignment.WorldSize}; use {SettingNames.Of(Setting.WorldSize)} {recordedWorld}, or pass {SettingNames.Of(Setting.ForceReassign)} (only when no worker of the earlier run is still running)"));
            }
            ControlFiles.Replace(path, json);
        }
    }

    private static byte[] PinnedJson(ShardAssignment assignment, string listFile) => PersistedJson.ToFile(
        new PinnedListDocument("riverbed-shard-list/1", listFile, assignment.ListSha256, assignment.Shards.Count, assignment.WorldSize),
        JobRecordJson.Persisted.PinnedListDocument);
}

/// <summary>assignment.json as its file holds it (properties in file order); <see cref="JobRecord"/> is made from and into it.</summary>
internal sealed record JobDocument
{
    [JsonRequired] public required string Format { get; init; }
    [JsonRequired] public int? WorldSize { get; init; }
    [JsonRequired] public required string ShardListSha256 { get; init; }
    [JsonRequired] public string? ConfigHash { get; init; }

    /// <summary>Absent from <see cref="JobRecord.PreviousFormatName"/> records.</summary>
    public long? UnitSize { get; init; }

    /// <summary>How units are dealt to ranks, for a reader of the file (not read back).</summary>
    public string? Assignment { get; init; }

    [JsonRequired] public required IReadOnlyList<JobUnit> Shards { get; init; }
    [JsonRequired] public DateTime CreatedUtc { get; init; }
}

/// <summary>One unit of a job record; a previous-layout record has only name, base and path.</summary>
internal sealed record JobUnit
{
    [JsonRequired] public required string Name { get; init; }
    [JsonRequired] public required string Base { get; init; }
    public string? File { get; init; }
    [JsonRequired] public required string Path { get; init; }
    public long? Bytes { get; init; }
    public int? Rank { get; init; }

    /// <summary>The range of a file split in several units; absent for a whole file.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JobUnitRange? Unit { get; init; }
}

/// <summary>A unit's range; <see cref="Kind"/> is the lower-case <see cref="UnitKind"/> name.</summary>
internal sealed record JobUnitRange(
    [property: JsonRequired] string Kind,
    [property: JsonRequired] int Index,
    [property: JsonRequired] int Count,
    [property: JsonRequired] long Start,
    [property: JsonRequired] long End,
    [property: JsonRequired] long FirstRow,
    [property: JsonRequired] long FirstLine);

/// <summary>A pinned shard list's own record, <c>lists/{hash}.json</c> (format riverbed-shard-list/1).</summary>
internal sealed record PinnedListDocument(
    string Format,
    string File,
    string ShardListSha256,
    int Shards,
    [property: JsonRequired] int WorldSize);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(JobDocument))]
[JsonSerializable(typeof(PinnedListDocument))]
internal sealed partial class JobRecordJson : JsonSerializerContext
{
    public static JobRecordJson Persisted { get; } = new(PersistedJson.Options());
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
