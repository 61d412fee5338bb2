using System.Globalization;
using System.Text;

namespace Riverbed.IO;

/// <summary>Output shard formats.</summary>
public enum OutputFormat
{
    Parquet,
    JsonLines,
}

/// <summary>
/// Where one shard's files go under the output folder. Names come from the input's relative name and are checked to
/// stay inside the output folder: no empty, "." or ".." segments, no control characters or backslashes, no segment
/// over 255 bytes, and no symbolic link on the way (a link could lead outside the folder).
/// <code>
///   {base}.parquet | {base}.jsonl                     the output shard (or kept/{base}.* and removed/{reason}/{base}.*)
///   {base}.rejects.jsonl, {base}.failures.jsonl       records that could not be read / could not be scored
///   {base}.manifest.json                              written last; the shard is complete only if it matches
///   .{file}.{pid}-{random}.tmp                        temporary names in the same folder, renamed on commit
/// </code>
/// </summary>
public sealed class ShardLayout
{
    public ShardLayout(string outputFolder, string baseName, OutputFormat format, bool split)
    {
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputFolder));
        BaseName = CheckRelativeName(baseName);
        Format = format;
        Split = split;
        Extension = format == OutputFormat.Parquet ? ".parquet" : ".jsonl";
    }

    public string Root { get; }

    /// <summary>The shard's relative base name with '/' separators, e.g. "sub/part-0001".</summary>
    public string BaseName { get; }

    public OutputFormat Format { get; }

    public bool Split { get; }

    public string Extension { get; }

    /// <summary>"" for the single output, "kept" or "removed/{reason}" for split outputs.</summary>
    public string RelativeDataPath(string route) =>
        route.Length == 0 ? BaseName + Extension : route + "/" + BaseName + Extension;

    public string RelativeRejectsPath => BaseName + ".rejects.jsonl";

    public string RelativeFailuresPath => BaseName + ".failures.jsonl";

    public string RelativeManifestPath => BaseName + ".manifest.json";

    /// <summary>A document committed with the shard, e.g. "{base}.stats.json" for the suffix "stats.json".</summary>
    public string RelativeAttachmentPath(string suffix) => BaseName + "." + suffix;

    public string ManifestPath => Full(RelativeManifestPath);

    /// <summary>The lock that keeps two writers off the same shard.</summary>
    public string LockPath
    {
        get
        {
            var manifest = ManifestPath;
            return Path.Combine(Path.GetDirectoryName(manifest)!, "." + Path.GetFileName(BaseName) + ".lock");
        }
    }

    /// <summary>The absolute path of a relative output name, checked to lie inside the output folder.</summary>
    public string Full(string relative)
    {
        var full = Path.GetFullPath(Path.Combine(Root, CheckRelativeName(relative)));
        if (!full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new OutputPathException($"output name '{relative}' resolves outside the output folder {Root}");
        }
        return full;
    }

    /// <summary>A fresh temporary name beside <paramref name="finalPath"/> (same folder, so the rename is atomic).</summary>
    internal static string TemporaryPath(string finalPath)
    {
        var folder = Path.GetDirectoryName(finalPath)!;
        var random = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
        return Path.Combine(folder, $".{Path.GetFileName(finalPath)}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{random}.tmp");
    }

    /// <summary>Temporary files a killed writer left beside <paramref name="finalPath"/>.</summary>
    internal static IEnumerable<string> LeftoverTemporaries(string finalPath)
    {
        var folder = Path.GetDirectoryName(finalPath)!;
        return Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "." + Path.GetFileName(finalPath) + ".*.tmp").ToList()
            : [];
    }

    /// <summary>Creates the folders for <paramref name="path"/>, refusing symbolic links between the root and it.</summary>
    internal void CreateFolderFor(string path)
    {
        var folder = Path.GetDirectoryName(path)!;
        var relative = Path.GetRelativePath(Root, folder);
        var current = Root;
        Directory.CreateDirectory(Root);
        if (relative == ".")
        {
            return;
        }
        foreach (var segment in relative.Split(Path.DirectorySeparatorChar))
        {
            current = Path.Combine(current, segment);
            var info = new DirectoryInfo(current);
            if (info.Exists && info.LinkTarget is not null)
            {
                throw new OutputPathException($"{current} is a symbolic link; Riverbed does not write through links inside the output folder, as they can lead outside it");
            }
            if (!info.Exists)
            {
                if (File.Exists(current))
                {
                    throw new OutputPathException($"{current} is a file where an output folder is needed");
                }
                Directory.CreateDirectory(current);
            }
        }
    }

    /// <summary>Validates a relative output name: every rule in the class summary.</summary>
    public static string CheckRelativeName(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new OutputPathException("an output name is empty");
        }
        if (Path.IsPathRooted(name) || name.StartsWith('/') || name.StartsWith('\\'))
        {
            throw new OutputPathException($"output name '{Printable(name)}' is an absolute path; outputs must stay inside the output folder");
        }
        if (Encoding.UTF8.GetByteCount(name) > 4000)
        {
            throw new OutputPathException($"output name '{Printable(name[..40])}…' is longer than 4000 bytes");
        }
        foreach (var segment in name.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..")
            {
                throw new OutputPathException($"output name '{Printable(name)}' has an empty, '.' or '..' segment, which could lead outside the output folder");
            }
            if (segment.Any(c => char.IsControl(c) || c == '\\'))
            {
                throw new OutputPathException($"output name '{Printable(name)}' contains a control character or a backslash");
            }
            if (Encoding.UTF8.GetByteCount(segment) > 200)
            {
                throw new OutputPathException($"output name segment '{Printable(segment[..40])}…' is longer than 200 bytes");
            }
        }
        return name;
    }

    private static string Printable(string text) =>
        string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}

/// <summary>An output name that would leave the output folder, or cannot be created safely.</summary>
public sealed class OutputPathException : RiverbedException
{
    public OutputPathException()
    {
    }

    public OutputPathException(string message)
        : base(message)
    {
    }

    public OutputPathException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
