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

/// <summary>One input file (a shard): where it is, what it is, and the name its outputs are derived from.</summary>
public sealed class ShardInput
{
    private ShardInput(string path, string resolvedPath, string displayPath, string name, InputFormat format, bool gzip, long size, DateTime lastWriteUtc)
    {
        Path = path;
        ResolvedPath = resolvedPath;
        DisplayPath = displayPath;
        Name = name;
        Format = format;
        Gzip = gzip;
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

    public bool Gzip { get; }

    public long Size { get; }

    public DateTime LastWriteUtc { get; }

    /// <summary><see cref="Name"/> without its data extensions (.jsonl.gz, .json, .parquet, …).</summary>
    public string BaseName => Name[..^DataExtensionLength(Name)];

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
        if (!TryClassify(info.Name, out var format, out var gzip))
        {
            throw new InputException(
                $"{displayPath ?? path}: unsupported file type; Riverbed reads .jsonl, .jsonl.gz, .ndjson, .json, .json.gz and .parquet files");
        }
        return new ShardInput(full, resolved, displayPath ?? path, name ?? info.Name, format, gzip, data.Length, data.LastWriteTimeUtc);
    }

    /// <summary>Recognizes dataset files by extension (case-insensitive).</summary>
    public static bool TryClassify(string fileName, out InputFormat format, out bool gzip)
    {
        var lower = fileName.ToLowerInvariant();
        gzip = lower.EndsWith(".gz", StringComparison.Ordinal);
        var stem = gzip ? lower[..^3] : lower;
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
        if (!gzip && stem.EndsWith(".parquet", StringComparison.Ordinal))
        {
            format = InputFormat.Parquet;
            return true;
        }
        format = default;
        return false;
    }

    private static int DataExtensionLength(string name)
    {
        var lower = name.ToLowerInvariant();
        foreach (var extension in new[] { ".jsonl.gz", ".ndjson.gz", ".json.gz", ".jsonl", ".ndjson", ".json", ".parquet" })
        {
            if (lower.EndsWith(extension, StringComparison.Ordinal) && lower.Length > extension.Length)
            {
                return extension.Length;
            }
        }
        return 0;
    }

    public override string ToString() => DisplayPath;
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
