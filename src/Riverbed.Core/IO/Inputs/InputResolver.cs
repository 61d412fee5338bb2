using System.Text;
using System.Text.RegularExpressions;

namespace Riverbed.IO;

/// <summary>
/// Turns the inputs a user names (files, folders, globs) into shards in a deterministic order: inputs in the order
/// given, and the files found under each folder or glob sorted by their relative name (ordinal). Folders are searched
/// recursively; hidden entries, symbolic links to folders (loops) and Riverbed's own side files (rejects, failures,
/// manifests, shard stats) are skipped, as are files of other types. Globs support <c>*</c>, <c>?</c> and <c>**</c> (any depth).
/// </summary>
public static class InputResolver
{
    public static IReadOnlyList<ShardInput> Resolve(IEnumerable<string> specs)
    {
        var shards = new List<ShardInput>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if (string.IsNullOrWhiteSpace(spec))
            {
                throw new InputException("an input path is empty");
            }
            if (spec.Contains('\0', StringComparison.Ordinal))
            {
                throw new InputException($"input '{spec.Replace("\0", "\\0", StringComparison.Ordinal)}' contains a NUL character");
            }
            var found = IsGlob(spec) ? ExpandGlob(spec) : ExpandPath(spec);
            foreach (var shard in found)
            {
                if (seen.Add(shard.Path))
                {
                    shards.Add(shard);
                }
            }
        }
        return shards;
    }

    /// <summary>Refuses two inputs whose outputs would have the same name (e.g. a/x.jsonl and b/x.json named directly).</summary>
    public static void CheckDistinctOutputNames(IReadOnlyList<ShardInput> shards)
    {
        var byBase = new Dictionary<string, ShardInput>(StringComparer.Ordinal);
        foreach (var shard in shards)
        {
            if (byBase.TryGetValue(shard.BaseName, out var other))
            {
                throw new InputException(
                    $"{other.DisplayPath} and {shard.DisplayPath} would both write the output shard '{shard.BaseName}'; " +
                    "rename one, or name their parent folder as the input so the folder structure is kept");
            }
            byBase.Add(shard.BaseName, shard);
        }
    }

    private static bool IsGlob(string spec) => spec.AsSpan().IndexOfAny('*', '?') >= 0 && !File.Exists(spec);

    private static IEnumerable<ShardInput> ExpandPath(string spec)
    {
        if (File.Exists(spec))
        {
            return [ShardInput.FromFile(spec)];
        }
        if (Directory.Exists(spec))
        {
            var root = Path.GetFullPath(spec);
            return Walk(root, root, _ => true).Select(file => FromFound(file, root, spec));
        }
        throw new InputException($"{spec} does not exist");
    }

    private static List<ShardInput> ExpandGlob(string spec)
    {
        var normalized = spec.Replace('\\', '/');
        var segments = normalized.Split('/');
        var fixedCount = 0;
        while (fixedCount < segments.Length - 1 && segments[fixedCount].IndexOfAny(['*', '?']) < 0)
        {
            fixedCount++;
        }
        var basePart = string.Join('/', segments.Take(fixedCount));
        var baseDisplay = fixedCount == 0 ? "." : (basePart.Length == 0 ? "/" : basePart);
        var root = Path.GetFullPath(baseDisplay);
        if (!Directory.Exists(root))
        {
            throw new InputException($"{spec}: the folder {baseDisplay} does not exist");
        }
        var pattern = GlobRegex(segments.Skip(fixedCount));
        var matches = Walk(root, root, relative => pattern.IsMatch(relative))
            .Select(file => FromFound(file, root, baseDisplay))
            .ToList();
        if (matches.Count == 0)
        {
            throw new InputException($"{spec} matches no .jsonl, .json, .jsonl.gz or .parquet file");
        }
        return matches;
    }

    private static ShardInput FromFound(string file, string root, string displayRoot)
    {
        var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
        var display = displayRoot == "." ? relative : displayRoot.TrimEnd('/') + "/" + relative;
        return ShardInput.FromFile(file, relative, display);
    }

    /// <summary>Dataset files under <paramref name="folder"/>, sorted by relative path (ordinal, '/' separators).</summary>
    private static IEnumerable<string> Walk(string root, string folder, Func<string, bool> include)
    {
        var found = new List<(string Relative, string Full)>();
        var pending = new Stack<string>();
        pending.Push(folder);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            foreach (var entry in new DirectoryInfo(current).EnumerateFileSystemInfos())
            {
                if (entry.Name.StartsWith('.'))
                {
                    continue;
                }
                if (entry is DirectoryInfo directory)
                {
                    if (directory.LinkTarget is null)
                    {
                        pending.Push(directory.FullName);
                    }
                    continue;
                }
                if (IsRiverbedSideFile(entry.Name) || !ShardInput.TryClassify(entry.Name, out _, out _))
                {
                    continue;
                }
                var relative = Path.GetRelativePath(root, entry.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (include(relative))
                {
                    found.Add((relative, entry.FullName));
                }
            }
        }
        return found.OrderBy(item => item.Relative, StringComparer.Ordinal).Select(item => item.Full);
    }

    private static bool IsRiverbedSideFile(string name) =>
        name.EndsWith(".rejects.jsonl", StringComparison.Ordinal)
        || name.EndsWith(".failures.jsonl", StringComparison.Ordinal)
        || name.EndsWith(".manifest.json", StringComparison.Ordinal)
        || name.EndsWith(".stats.json", StringComparison.Ordinal);

    private static Regex GlobRegex(IEnumerable<string> segments)
    {
        var parts = segments.ToList();
        var pattern = new StringBuilder("^");
        var needSlash = false;
        for (var i = 0; i < parts.Count; i++)
        {
            if (parts[i] == "**")
            {
                // Any number of folders (including none); as the last segment, anything below.
                if (needSlash)
                {
                    pattern.Append('/');
                }
                pattern.Append(i == parts.Count - 1 ? ".*" : "(?:[^/]+/)*");
                needSlash = false;
                continue;
            }
            if (needSlash)
            {
                pattern.Append('/');
            }
            foreach (var c in parts[i])
            {
                pattern.Append(c switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    _ => Regex.Escape(c.ToString()),
                });
            }
            needSlash = true;
        }
        pattern.Append('$');
        return new Regex(pattern.ToString(), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    }
}
