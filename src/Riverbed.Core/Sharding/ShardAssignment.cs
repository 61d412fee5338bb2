using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Riverbed.IO;

namespace Riverbed.Sharding;

/// <summary>
/// Which shards each rank processes. The list is either every input shard sorted by output name (ordinal, so the order
/// does not depend on how the inputs were typed), or a pinned list file in the file's order; shard i goes to rank
/// i mod W. Every rank computes the same answer on its own, so no coordinator is needed.
/// </summary>
public sealed class ShardAssignment
{
    private ShardAssignment(IReadOnlyList<ShardInput> shards, int worldSize, string? pinnedFile)
    {
        Shards = shards;
        WorldSize = worldSize;
        PinnedFile = pinnedFile;
        ListSha256 = HashNames(shards.Select(shard => shard.Name));
    }

    /// <summary>The shards in assignment order.</summary>
    public IReadOnlyList<ShardInput> Shards { get; }

    public int WorldSize { get; }

    /// <summary>The pinned shard-list file, or null when every input shard is dealt out.</summary>
    public string? PinnedFile { get; }

    /// <summary>SHA-256 of the shard names in assignment order: what a job record compares between runs.</summary>
    public string ListSha256 { get; }

    /// <summary>The rank that processes <c>Shards[index]</c>.</summary>
    public int RankOf(int index) => index % WorldSize;

    /// <summary>This rank's shards, in assignment order.</summary>
    public IReadOnlyList<ShardInput> ForRank(int rank)
    {
        if (rank < 0 || rank >= WorldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"ranks run from 0 to {WorldSize - 1}");
        }
        var mine = new List<ShardInput>();
        for (var i = rank; i < Shards.Count; i += WorldSize)
        {
            mine.Add(Shards[i]);
        }
        return mine;
    }

    /// <summary>Every input shard, sorted by output name, dealt round-robin over <paramref name="worldSize"/> ranks.</summary>
    public static ShardAssignment RoundRobin(IReadOnlyList<ShardInput> inputs, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        InputResolver.CheckDistinctOutputNames(inputs);
        return new ShardAssignment(Sorted(inputs), worldSize, null);
    }

    /// <summary>
    /// The shards a pinned list names, in the list's order. The file has one shard name per line (its name relative to
    /// the input folder, as <c>status</c> prints it, e.g. <c>sub/part-1.jsonl</c>); blank lines and lines starting with
    /// <c>#</c> are ignored. Every name must be one of the inputs, and appear once.
    /// </summary>
    public static ShardAssignment Pinned(IReadOnlyList<ShardInput> inputs, string listFile, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        InputResolver.CheckDistinctOutputNames(inputs);
        var byName = new Dictionary<string, ShardInput>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            byName[input.Name] = input;
        }
        var names = ReadList(listFile);
        var shards = new List<ShardInput>(names.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, line) in names)
        {
            if (!byName.TryGetValue(name, out var shard))
            {
                throw new ShardListException(
                    $"{listFile}:{line}: '{name}' is not one of the {inputs.Count} input shard(s); shard lists name shards as `riverbed status` prints them, relative to the input folder");
            }
            if (!seen.Add(name))
            {
                throw new ShardListException($"{listFile}:{line}: '{name}' is listed twice");
            }
            shards.Add(shard);
        }
        if (shards.Count == 0)
        {
            throw new ShardListException($"{listFile} names no shard");
        }
        return new ShardAssignment(shards, worldSize, Path.GetFullPath(listFile));
    }

    /// <summary>Writes a shard list file that <see cref="Pinned"/> reads back in the same order.</summary>
    public static string FormatList(IEnumerable<string> names, string comment)
    {
        ArgumentNullException.ThrowIfNull(names);
        var text = new StringBuilder();
        foreach (var line in comment.Split('\n'))
        {
            text.Append("# ").Append(line).Append('\n');
        }
        foreach (var name in names)
        {
            if (name.Length == 0 || name.Contains('\n', StringComparison.Ordinal) || name.Contains('\r', StringComparison.Ordinal)
                || name.StartsWith('#') || name.Trim() != name)
            {
                throw new ShardListException($"shard name '{name}' cannot be written to a shard list (leading '#', surrounding spaces or a line break)");
            }
            text.Append(name).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Inputs sorted by output name (ordinal): the order every rank agrees on.</summary>
    public static IReadOnlyList<ShardInput> Sorted(IReadOnlyList<ShardInput> inputs) =>
        inputs.OrderBy(input => input.Name, StringComparer.Ordinal).ToList();

    public static string HashNames(IEnumerable<string> names)
    {
        var text = new StringBuilder("riverbed-shard-list/1\n");
        foreach (var name in names)
        {
            text.Append(name).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static List<(string Name, int Line)> ReadList(string listFile)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(listFile, new UTF8Encoding(false, throwOnInvalidBytes: true));
        }
        catch (FileNotFoundException)
        {
            throw new ShardListException($"shard list {listFile} does not exist");
        }
        catch (DirectoryNotFoundException)
        {
            throw new ShardListException($"shard list {listFile} does not exist");
        }
        catch (DecoderFallbackException)
        {
            throw new ShardListException($"shard list {listFile} is not valid UTF-8");
        }
        catch (IOException error)
        {
            throw new ShardListException($"shard list {listFile} cannot be read: {error.Message}", error);
        }
        var names = new List<(string, int)>();
        for (var i = 0; i < lines.Length; i++)
        {
            var name = lines[i].Trim();
            if (name.Length > 0 && !name.StartsWith('#'))
            {
                names.Add((name, i + 1));
            }
        }
        return names;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Shards.Count} shard(s) over {WorldSize} rank(s){(PinnedFile is null ? string.Empty : $", pinned by {PinnedFile}")}");
}

/// <summary>A pinned shard list that cannot be used.</summary>
public sealed class ShardListException : RiverbedException
{
    public ShardListException()
    {
    }

    public ShardListException(string message)
        : base(message)
    {
    }

    public ShardListException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
