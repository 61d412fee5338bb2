using System.Text;
using System.Text.RegularExpressions;

namespace Riverbed.IO;

/// <summary>
/// Turns the inputs a user names (files, folders, globs) into shards in a deterministic order: inputs in the order
/// given, and the files found under each folder or glob sorted by their relative name (ordinal). Folders are searched
/// recursively; hidden entries, symbolic links to folders (loops) and Riverbed's own side files (rejects, failures,
/// manifests, shard stats) are skipped, as are files of other types; each skipped entry is reported with its reason. A
/// folder or glob that yields no dataset file is an error naming what it holds, never an empty run. Globs support
/// <c>*</c>, <c>?</c> and <c>**</c> (any depth).
/// </summary>
public static class InputResolver
{
    /// <summary>Skipped entries named in the error for a folder or glob without dataset files (the rest are counted).</summary>
    private const int SkippedNamed = 10;

    /// <summary>The shards the inputs name; see <see cref="ResolveWithSkipped"/> for what is skipped and why.</summary>
    public static IReadOnlyList<ShardInput> Resolve(IEnumerable<string> specs) => ResolveWithSkipped(specs).Shards;

    /// <summary>The shards the inputs name, and every entry found under their folders and globs that is not read.</summary>
    public static ResolvedInputs ResolveWithSkipped(IEnumerable<string> specs)
    {
        var shards = new List<ShardInput>();
        var skipped = new List<SkippedInput>();
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
            var found = IsGlob(spec) ? ExpandGlob(spec, skipped) : ExpandPath(spec, skipped);
            foreach (var shard in found)
            {
                if (seen.Add(shard.Path))
                {
                    shards.Add(shard);
                }
            }
        }
        return new ResolvedInputs(shards, skipped);
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

    private static List<ShardInput> ExpandPath(string spec, List<SkippedInput> skipped)
    {
        if (File.Exists(spec))
        {
            return [ShardInput.FromFile(spec)];
        }
        if (Directory.Exists(spec))
        {
            var root = Path.GetFullPath(spec);
            var walk = Walk(root, root, _ => true, reportFolders: true);
            var shards = walk.Files.Select(file => FromFound(file, root, spec)).ToList();
            var passedOver = walk.Skipped.Select(entry => new SkippedInput(Display(entry.Relative, spec), entry.Reason)).ToList();
            if (shards.Count == 0)
            {
                throw new InputException($"no dataset files in {spec}: {Found(walk.Skipped, "it is empty")}; Riverbed reads {ShardInput.SupportedTypes}");
            }
            skipped.AddRange(passedOver);
            return shards;
        }
        throw new InputException($"{spec} does not exist");
    }

    private static List<ShardInput> ExpandGlob(string spec, List<SkippedInput> skipped)
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
        var walk = Walk(root, root, relative => pattern.IsMatch(relative), reportFolders: false);
        var matches = walk.Files.Select(file => FromFound(file, root, baseDisplay)).ToList();
        var passedOver = walk.Skipped.Select(entry => new SkippedInput(Display(entry.Relative, baseDisplay), entry.Reason)).ToList();
        if (matches.Count == 0)
        {
            throw new InputException($"{spec} matches no dataset file: {Found(walk.Skipped, "it matches no file at all")}; Riverbed reads {ShardInput.SupportedTypes}");
        }
        skipped.AddRange(passedOver);
        return matches;
    }

    /// <summary>What a folder or glob without dataset files holds (by names below it), for its error message.</summary>
    private static string Found(List<(string Relative, string Reason)> passedOver, string whenNothing)
    {
        if (passedOver.Count == 0)
        {
            return whenNothing;
        }
        var named = string.Join("; ", passedOver.Take(SkippedNamed).Select(entry => $"{entry.Relative}: {entry.Reason}"));
        var more = passedOver.Count > SkippedNamed ? $"; and {passedOver.Count - SkippedNamed:N0} more" : string.Empty;
        return $"found {passedOver.Count:N0} {(passedOver.Count == 1 ? "entry" : "entries")} that Riverbed does not read ({named}{more})";
    }

    private static ShardInput FromFound(string file, string root, string displayRoot)
    {
        var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
        return ShardInput.FromFile(file, relative, Display(relative, displayRoot));
    }

    private static string Display(string relative, string displayRoot) =>
        displayRoot == "." ? relative : displayRoot.TrimEnd('/') + "/" + relative;

    /// <summary>
    /// Dataset files under <paramref name="folder"/>, sorted by relative path (ordinal, '/' separators), and the entries
    /// passed over with their reasons: files that <paramref name="include"/> accepts but are not read, and (with
    /// <paramref name="reportFolders"/>) the folders not searched. Both lists are in the same order.
    /// </summary>
    private static (List<string> Files, List<(string Relative, string Reason)> Skipped) Walk(
        string root, string folder, Func<string, bool> include, bool reportFolders)
    {
        var found = new List<(string Relative, string Full)>();
        var skipped = new List<(string Relative, string Reason)>();
        var pending = new Stack<string>();
        pending.Push(folder);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            foreach (var entry in new DirectoryInfo(current).EnumerateFileSystemInfos())
            {
                var relative = Path.GetRelativePath(root, entry.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (entry is DirectoryInfo directory)
                {
                    var why = entry.Name.StartsWith('.') ? "a hidden folder, not searched"
                        : directory.LinkTarget is not null ? "a symbolic link to a folder, not followed (name its target to read it)"
                        : NameNotUtf8(entry) ? NotUtf8Reason
                        : null;
                    if (why is null)
                    {
                        pending.Push(directory.FullName);
                    }
                    else if (reportFolders)
                    {
                        skipped.Add((relative + "/", why));
                    }
                    continue;
                }
                if (!include(relative))
                {
                    continue;
                }
                var reason = entry.Name.StartsWith('.') ? "a hidden file"
                    : NameNotUtf8(entry) ? NotUtf8Reason
                    : IsRiverbedSideFile(entry.Name) ? "one of Riverbed's own output files (rejects, failures, manifest or stats)"
                    : entry.Name is "run.json" or "stats.json" && IsScoredFolder(current)
                        ? $"Riverbed's {(entry.Name == "run.json" ? "run record" : "merged statistics")} of a scored output folder, not a dataset"
                    : ShardInput.TryClassify(entry.Name, out _, out _) ? null
                    : ShardInput.UnsupportedReason(entry.Name);
                if (reason is null)
                {
                    found.Add((relative, entry.FullName));
                }
                else
                {
                    skipped.Add((relative, reason));
                }
            }
        }
        return (
            found.OrderBy(item => item.Relative, StringComparer.Ordinal).Select(item => item.Full).ToList(),
            skipped.OrderBy(item => item.Relative, StringComparer.Ordinal).ToList());
    }

    private const string NotUtf8Reason =
        "its name is not valid UTF-8 (shown with \uFFFD for the bad bytes), so it cannot be opened by name; rename it to read it";

    /// <summary>
    /// .NET decodes a file name's bytes as UTF-8, replacing bytes that are not with U+FFFD, so such a name cannot be
    /// opened again: it names no file. (A name holding a real U+FFFD still opens.)
    /// </summary>
    private static bool NameNotUtf8(FileSystemInfo entry) =>
        entry.Name.Contains('\uFFFD', StringComparison.Ordinal) && !Path.Exists(entry.FullName);

    /// <summary>
    /// A folder Riverbed wrote scored shards to: it holds the control folder <c>.riverbed/</c>, or shard manifests beside
    /// a run.json or stats.json.
    /// </summary>
    public static bool IsScoredFolder(string folder) =>
        Directory.Exists(Path.Combine(folder, ".riverbed"))
        || ((File.Exists(Path.Combine(folder, "run.json")) || File.Exists(Path.Combine(folder, "stats.json")))
            && Directory.EnumerateFiles(folder, "*.manifest.json").Any());

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

/// <summary>An entry found under an input folder or glob that is not read, and why.</summary>
public sealed record SkippedInput(string DisplayPath, string Reason)
{
    public override string ToString() => $"{DisplayPath}: {Reason}";
}

/// <summary>What the inputs resolve to: the shards in order, and every entry passed over on the way.</summary>
public sealed record ResolvedInputs(IReadOnlyList<ShardInput> Shards, IReadOnlyList<SkippedInput> Skipped);
