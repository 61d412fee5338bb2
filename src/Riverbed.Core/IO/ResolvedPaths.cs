namespace Riverbed.IO;

/// <summary>
/// Paths as the filesystem resolves them, not as they are written: every symbolic link on the way is followed, so two
/// spellings of one place compare equal. Containment checks (an output folder inside an input folder, a control file
/// inside the output folder) are only sound on resolved paths: a link would otherwise let the output be the input.
/// </summary>
public static class ResolvedPaths
{
    /// <summary>Linux gives up after 40 links on one lookup (ELOOP); so does this.</summary>
    private const int MaxLinks = 40;

    /// <summary>
    /// The absolute path with every link followed. Components that do not exist yet are kept as written (a folder the
    /// run is about to create resolves to where it will be created).
    /// </summary>
    public static string Resolve(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var links = 0;
        return Path.TrimEndingDirectorySeparator(ResolveFull(Path.GetFullPath(path), ref links));
    }

    /// <summary>True when <paramref name="inner"/> is <paramref name="outer"/> or lies below it (both resolved).</summary>
    public static bool IsSameOrInside(string inner, string outer)
    {
        var a = Resolve(inner);
        var b = Resolve(outer);
        return string.Equals(a, b, StringComparison.Ordinal)
            || a.StartsWith(b.EndsWith(Path.DirectorySeparatorChar) ? b : b + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>
    /// Refuses an output folder that is, or lies inside, an input folder (a rerun would read the outputs as inputs, and a
    /// shard could overwrite its own input), and an input file that lies inside the output folder; links are followed first.
    /// </summary>
    public static void CheckOutputApartFromInputs(string outputFolder, IEnumerable<string> inputSpecs)
    {
        ArgumentNullException.ThrowIfNull(inputSpecs);
        var output = Resolve(outputFolder);
        foreach (var spec in inputSpecs)
        {
            if (string.IsNullOrEmpty(spec) || spec.AsSpan().IndexOfAny('*', '?') >= 0)
            {
                continue;
            }
            var input = Resolve(spec);
            if (Directory.Exists(input) && IsSameOrInside(output, input))
            {
                var how = string.Equals(output, input, StringComparison.Ordinal) ? "is the input folder" : "is inside the input folder";
                var via = string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputFolder)), output, StringComparison.Ordinal)
                    && string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(spec)), input, StringComparison.Ordinal)
                    ? string.Empty
                    : $" (after following symbolic links: {output} and {input})";
                throw new OutputPathException(
                    $"the output folder {outputFolder} {how} {spec}{via}; a run would overwrite the inputs or read its outputs as inputs. Choose an output folder outside it");
            }
            if (File.Exists(input) && IsSameOrInside(input, output))
            {
                throw new OutputPathException(
                    $"the input {spec} lies inside the output folder {outputFolder} (resolved: {input}); a run could overwrite it. Move the input or choose another output folder");
            }
        }
    }

    /// <summary>
    /// Refuses a path under <paramref name="outputFolder"/> that is itself, or passes through, a symbolic link leading
    /// out of the output folder (e.g. a <c>.riverbed</c> control folder linked elsewhere). Returns <paramref name="path"/>.
    /// </summary>
    public static string CheckStaysInside(string outputFolder, string path)
    {
        var root = Resolve(outputFolder);
        var resolved = Resolve(path);
        if (!string.Equals(resolved, root, StringComparison.Ordinal)
            && !resolved.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new OutputPathException(
                $"{path} leads outside the output folder {outputFolder} (it resolves to {resolved} through a symbolic link); Riverbed does not write through links that leave the output folder");
        }
        return path;
    }

    private static string ResolveFull(string full, ref int links)
    {
        var root = Path.GetPathRoot(full) ?? "/";
        var current = root;
        var segments = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < segments.Length; i++)
        {
            var next = Path.Combine(current, segments[i]);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (!info.Exists && info.LinkTarget is null)
            {
                // Not there yet: nothing further down can be a link.
                return Path.Combine([next, .. segments[(i + 1)..]]);
            }
            if (info.LinkTarget is { } target)
            {
                if (++links > MaxLinks)
                {
                    throw new OutputPathException($"{full}: too many levels of symbolic links");
                }
                var absolute = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
                next = ResolveFull(Path.GetFullPath(absolute), ref links);
            }
            current = next;
        }
        return current;
    }
}
