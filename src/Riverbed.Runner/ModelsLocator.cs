namespace Riverbed.Runner;

/// <summary>Finds the default models folder the way native libraries are found: the repository's, or one beside the app.</summary>
internal static class ModelsLocator
{
    private static readonly string[] Roles = ["mlm", "nli", "rtd", "ner"];

    /// <summary>
    /// <c>models/demo</c> in the nearest ancestor of the app (or of the working directory) that has one with at least one
    /// role folder, then beside the app; null when there is none.
    /// </summary>
    public static string? FindDemo()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "models", "demo");
                if (HasRoles(candidate))
                {
                    return candidate;
                }
            }
        }
        var besideApp = Path.Combine(AppContext.BaseDirectory, "models", "demo");
        return HasRoles(besideApp) ? besideApp : null;
    }

    /// <summary>The folder <c>--models</c> names, or the demo set; a clear error when neither exists.</summary>
    public static string Resolve(string? given)
    {
        if (given is not null)
        {
            return Path.GetFullPath(given);
        }
        return FindDemo() ?? throw new RiverbedException(
            "no models folder given and models/demo was not found; run ./setup.sh (it generates models/demo) " +
            "or pass --models <folder with mlm/, nli/, rtd/ and optionally ner/>");
    }

    private static bool HasRoles(string folder) =>
        Directory.Exists(folder) && Roles.Any(role => Directory.Exists(Path.Combine(folder, role)));
}
