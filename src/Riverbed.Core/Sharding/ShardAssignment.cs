using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Riverbed.IO;

namespace Riverbed.Sharding;

/// <summary>
/// Which work units each rank processes. The list is either every unit of every input (files sorted by output name,
/// ordinal, so the order does not depend on how the inputs were typed; a file's units in file order), or a pinned list
/// file in the file's order. Units are dealt by size, longest-processing-time first: from the largest unit down (ties in
/// list order), each goes to the rank with the fewest input bytes so far (ties to the lowest rank). Every rank computes
/// the same answer on its own, so no coordinator is needed; the first rank records it in the job record, and later ranks
/// and reruns take their units from the recorded ranks instead of dealing again (<see cref="RankWorker"/>).
/// </summary>
public sealed class ShardAssignment
{
    private readonly int[] _ranks;

    private ShardAssignment(IReadOnlyList<ShardInput> shards, int worldSize, string? pinnedFile, long? unitSize)
    {
        UnitSize = unitSize;
        Shards = shards;
        WorldSize = worldSize;
        PinnedFile = pinnedFile;
        ListSha256 = HashNames(shards.Select(shard => shard.Name));
        _ranks = LongestFirst(shards.Select(shard => shard.WorkBytes).ToList(), worldSize);
    }

    /// <summary>The units in assignment order (a file split in several appears as its units, in order).</summary>
    public IReadOnlyList<ShardInput> Shards { get; }

    public int WorldSize { get; }

    /// <summary>The unit size the inputs were planned with (<see cref="UnitPlanner"/>); null when each file is one unit.</summary>
    public long? UnitSize { get; }

    /// <summary>The pinned shard-list file, or null when every input unit is dealt out.</summary>
    public string? PinnedFile { get; }

    /// <summary>SHA-256 of the unit names in assignment order: what a job record compares between runs.</summary>
    public string ListSha256 { get; }

    /// <summary>The rank that processes <c>Shards[index]</c>.</summary>
    public int RankOf(int index) => _ranks[index];

    /// <summary>Input bytes per rank (what the assignment balances).</summary>
    public IReadOnlyList<long> BytesPerRank()
    {
        var bytes = new long[WorldSize];
        for (var i = 0; i < Shards.Count; i++)
        {
            bytes[_ranks[i]] += Shards[i].WorkBytes;
        }
        return bytes;
    }

    /// <summary>This rank's units, in assignment order.</summary>
    public IReadOnlyList<ShardInput> ForRank(int rank)
    {
        if (rank < 0 || rank >= WorldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"ranks run from 0 to {WorldSize - 1}");
        }
        var mine = new List<ShardInput>();
        for (var i = 0; i < Shards.Count; i++)
        {
            if (_ranks[i] == rank)
            {
                mine.Add(Shards[i]);
            }
        }
        return mine;
    }

    /// <summary>
    /// Every unit (files sorted by output name, each file's units in order), dealt by size over
    /// <paramref name="worldSize"/> ranks.
    /// </summary>
    public static ShardAssignment BySize(IReadOnlyList<ShardInput> units, int worldSize, long? unitSize = null)
    {
        ArgumentNullException.ThrowIfNull(units);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        InputResolver.CheckDistinctOutputNames(units);
        return new ShardAssignment(Sorted(units), worldSize, null, unitSize);
    }

    /// <summary>
    /// Longest processing time first: sizes from the largest down (equal sizes in list order), each to the rank with the
    /// least so far (equal loads: the lowest rank). Deterministic, and within 4/3 of the best possible largest load.
    /// </summary>
    public static int[] LongestFirst(IReadOnlyList<long> sizes, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        var ranks = new int[sizes.Count];
        var load = new long[worldSize];
        var order = Enumerable.Range(0, sizes.Count).OrderByDescending(i => sizes[i]).ThenBy(i => i);
        foreach (var index in order)
        {
            var least = 0;
            for (var rank = 1; rank < worldSize; rank++)
            {
                if (load[rank] < load[least])
                {
                    least = rank;
                }
            }
            ranks[index] = least;
            load[least] += Math.Max(1, sizes[index]);
        }
        return ranks;
    }

    /// <summary>
    /// The units a pinned list names, in the list's order, dealt by size like the whole list. The file has one shard name per line (its name relative to
    /// the input folder, as <c>status</c> prints it, e.g. <c>sub/part-1.jsonl</c>); blank lines and lines starting with
    /// <c>#</c> are ignored. Every name must be one of the inputs, and appear once.
    /// </summary>
    public static ShardAssignment Pinned(IReadOnlyList<ShardInput> inputs, string listFile, int worldSize, long? unitSize = null)
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
        return new ShardAssignment(shards, worldSize, Path.GetFullPath(listFile), unitSize);
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

    /// <summary>
    /// Inputs sorted by their file's output name (ordinal), a file's units in unit order: the order every rank agrees on.
    /// </summary>
    public static IReadOnlyList<ShardInput> Sorted(IReadOnlyList<ShardInput> inputs) =>
        inputs.OrderBy(input => input.SourceName, StringComparer.Ordinal).ThenBy(input => input.Unit?.Index ?? 0).ToList();

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
        $"{Shards.Count} unit(s) over {WorldSize} rank(s), by size{(PinnedFile is null ? string.Empty : $", pinned by {PinnedFile}")}");
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
