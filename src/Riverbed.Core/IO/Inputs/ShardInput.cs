using System.Globalization;

namespace Riverbed.IO;

/// <summary>How a shard's bytes are laid out. JSON files are sniffed: an array, or JSON Lines under a .json name.</summary>
public enum InputFormat
{
    /// <summary>.json: a JSON array of records, or JSON Lines (decided from the first non-blank byte).</summary>
    Json,

    /// <summary>.jsonl / .ndjson: one record per line (a file that starts with '[' is read as an array).</summary>
    JsonLines,

    /// <summary>.parquet, read through DuckDB.</summary>
    Parquet,
}

/// <summary>How a JSON or JSON Lines shard is compressed, from its last extension. Each is read as a stream.</summary>
public enum InputCompression
{
    None,

    /// <summary>.gz: one gzip member, verified against its trailer.</summary>
    Gzip,

    /// <summary>.zst: Zstandard frames (ZstdSharp), a cut-off frame is an error.</summary>
    Zstd,

    /// <summary>.xz: xz streams (SharpCompress), each block's check verified.</summary>
    Xz,
}

/// <summary>One input file (a shard): where it is, what it is, and the name its outputs are derived from.</summary>
public sealed class ShardInput
{
    /// <summary>What Riverbed reads, for messages: every dataset extension it recognizes.</summary>
    public const string SupportedTypes = ".jsonl, .ndjson, .json (each also as .gz, .zst or .xz) and .parquet";

    private static readonly (string Extension, InputCompression Compression)[] Compressions =
    [
        (".gz", InputCompression.Gzip),
        (".zst", InputCompression.Zstd),
        (".xz", InputCompression.Xz),
    ];

    private ShardInput(string path, string resolvedPath, string displayPath, string name, InputFormat format, InputCompression compression, long size, DateTime lastWriteUtc,
        UnitRange? unit = null, string? sourceName = null)
    {
        Unit = unit;
        SourceName = sourceName ?? name;
        Path = path;
        ResolvedPath = resolvedPath;
        DisplayPath = displayPath;
        Name = name;
        Format = format;
        Compression = compression;
        Size = size;
        LastWriteUtc = lastWriteUtc;
    }

    /// <summary>Absolute path.</summary>
    public string Path { get; }

    /// <summary>
    /// The file the data is in: <see cref="Path"/> with every symbolic link followed (HuggingFace cache snapshots are
    /// links into a blob store). The fingerprint (size, modification time) is this file's, never a link's.
    /// </summary>
    public string ResolvedPath { get; }

    /// <summary>The path as the user wrote it (or as found under the folder or glob they wrote): used in messages.</summary>
    public string DisplayPath { get; }

    /// <summary>
    /// Relative name with '/' separators: the file name for a file named directly, the path below the folder or glob base
    /// otherwise. Output shards keep this name (with their own extension) under the output folder.
    /// </summary>
    public string Name { get; }

    public InputFormat Format { get; }

    public InputCompression Compression { get; }

    public long Size { get; }

    public DateTime LastWriteUtc { get; }

    /// <summary><see cref="Name"/> without its data extensions (.jsonl.gz, .json.zst, .parquet, …).</summary>
    public string BaseName => Name[..^DataExtensionLength(Name)];

    /// <summary>
    /// For one work unit of a file split into several (<see cref="UnitPlanner"/>), which rows of the file it covers;
    /// null when this input is the whole file. A unit's <see cref="Name"/> is the file's with the unit's number before
    /// the extension (<c>big.u00002-of-00007.jsonl</c>), so its outputs, manifest and failure marker are its own, and
    /// the output names sort in unit order.
    /// </summary>
    public UnitRange? Unit { get; }

    /// <summary>The file's own name (<see cref="Name"/> for a whole file): what examples name as their source, so ids and outputs do not depend on the units.</summary>
    public string SourceName { get; }

    /// <summary>The input bytes this input stands for: the unit's share of the file, or the whole file's size.</summary>
    public long WorkBytes => Unit?.Bytes ?? Size;

    /// <summary>Unit <paramref name="range"/> of this file (a whole-file input), named after the file and its place among <paramref name="range"/>'s siblings.</summary>
    public ShardInput ForUnit(UnitRange range)
    {
        ArgumentNullException.ThrowIfNull(range);
        if (Unit is not null)
        {
            throw new InvalidOperationException($"{DisplayPath} is already a unit");
        }
        var extension = Name[^DataExtensionLength(Name)..];
        var name = string.Create(CultureInfo.InvariantCulture, $"{BaseName}.u{range.Index:D5}-of-{range.Count:D5}{extension}");
        return new ShardInput(Path, ResolvedPath, DisplayPath, name, Format, Compression, Size, LastWriteUtc, range, Name);
    }

    /// <summary>Describes a file; throws when it is missing or of a type Riverbed does not read.</summary>
    public static ShardInput FromFile(string path, string? name = null, string? displayPath = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        var info = new FileInfo(full);
        var resolved = ResolvedPaths.Resolve(full);
        // Classified by the name the user sees (a cache blob's name is a hash), measured by the file the data is in.
        var data = new FileInfo(resolved);
        if (!info.Exists || !data.Exists)
        {
            throw new InputException(Directory.Exists(full)
                ? $"{displayPath ?? path} is a folder; name it as an input to read every dataset file inside it"
                : $"{displayPath ?? path} does not exist");
        }
        if (!TryClassify(info.Name, out var format, out var compression))
        {
            throw new InputException($"{displayPath ?? path}: {UnsupportedReason(info.Name)}; Riverbed reads {SupportedTypes}");
        }
        return new ShardInput(full, resolved, displayPath ?? path, name ?? info.Name, format, compression, data.Length, data.LastWriteTimeUtc);
    }

    /// <summary>Recognizes dataset files by extension (case-insensitive).</summary>
    public static bool TryClassify(string fileName, out InputFormat format, out InputCompression compression)
    {
        var stem = fileName.ToLowerInvariant();
        compression = InputCompression.None;
        foreach (var (extension, kind) in Compressions)
        {
            if (stem.EndsWith(extension, StringComparison.Ordinal))
            {
                compression = kind;
                stem = stem[..^extension.Length];
                break;
            }
        }
        if (stem.EndsWith(".jsonl", StringComparison.Ordinal) || stem.EndsWith(".ndjson", StringComparison.Ordinal))
        {
            format = InputFormat.JsonLines;
            return true;
        }
        if (stem.EndsWith(".json", StringComparison.Ordinal))
        {
            format = InputFormat.Json;
            return true;
        }
        // Parquet compresses its own pages, and DuckDB needs to seek in it: a compressed .parquet file is not read.
        if (compression == InputCompression.None && stem.EndsWith(".parquet", StringComparison.Ordinal))
        {
            format = InputFormat.Parquet;
            return true;
        }
        format = default;
        return false;
    }

    /// <summary>Why a file name is not a dataset file Riverbed reads (for skipped-file lists and errors).</summary>
    public static string UnsupportedReason(string fileName)
    {
        var lower = fileName.ToLowerInvariant();
        var extension = System.IO.Path.GetExtension(lower);
        if (extension.Length == 0)
        {
            return "no file extension to tell its type";
        }
        if (Compressions.Any(c => c.Extension == extension))
        {
            var inner = System.IO.Path.GetExtension(lower[..^extension.Length]);
            return inner == ".parquet"
                ? $"a compressed Parquet file: decompress it, Parquet compresses its own pages"
                : $"{extension} of a {(inner.Length == 0 ? "file without a type" : inner + " file")}, not of JSON Lines or JSON";
        }
        return extension switch
        {
            ".bz2" or ".lz4" or ".zip" or ".7z" or ".tar" or ".tgz" or ".lzma" or ".br" or ".z" =>
                $"{extension} compression, which Riverbed does not read: recompress as .gz, .zst or .xz",
            _ => $"unsupported file type {extension}",
        };
    }

    private static int DataExtensionLength(string name)
    {
        if (!TryClassify(name, out var format, out var compression))
        {
            return 0;
        }
        var lower = name.ToLowerInvariant();
        var compressed = compression == InputCompression.None ? string.Empty : Compressions.First(c => c.Compression == compression).Extension;
        string[] stems = format switch
        {
            InputFormat.JsonLines => [".jsonl", ".ndjson"],
            InputFormat.Json => [".json"],
            _ => [".parquet"],
        };
        foreach (var stem in stems)
        {
            var extension = stem + compressed;
            if (lower.EndsWith(extension, StringComparison.Ordinal) && lower.Length > extension.Length)
            {
                return extension.Length;
            }
        }
        return 0;
    }

    /// <summary>How messages name this input: the path, and for a unit which one (e.g. <c>data/big.jsonl (unit 3 of 16)</c>).</summary>
    public string Label => Unit is { } unit ? string.Create(CultureInfo.InvariantCulture, $"{DisplayPath} (unit {unit.Index + 1} of {unit.Count})") : DisplayPath;

    public override string ToString() => Label;
}

/// <summary>An input that cannot be used: missing, unsupported, or two inputs that would write the same output.</summary>
public sealed class InputException : RiverbedException
{
    public InputException()
    {
    }

    public InputException(string message)
        : base(message)
    {
    }

    public InputException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
