namespace Riverbed;

/// <summary>
/// Finds the native libraries Riverbed binds (ONNX Runtime, DuckDB). They are never committed: setup.sh installs
/// them under <c>.native/</c> at the repository root, a published app carries them beside its executable, and a
/// user can point at their own copy with an environment variable.
/// </summary>
public static class NativeLibraryLocator
{
    /// <summary>
    /// Resolves a library: the environment variable first (it must exist when set: a typo should not silently
    /// fall back to another copy), then <c>.native/{subfolder}/{fileName}</c> in the nearest ancestor folder of the
    /// running app (or of the working directory) that has one, then the app's own folder.
    /// </summary>
    /// <returns>The full path, or null when no copy was found (the caller explains what to do).</returns>
    public static string? Find(string environmentVariable, string subfolder, string fileName)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(environmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            if (!File.Exists(fromEnvironment))
            {
                throw new FileNotFoundException(
                    $"{environmentVariable} points at '{fromEnvironment}', which does not exist.", fromEnvironment);
            }
            return Path.GetFullPath(fromEnvironment);
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, ".native", subfolder, fileName);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        var besideApp = Path.Combine(AppContext.BaseDirectory, fileName);
        return File.Exists(besideApp) ? besideApp : null;
    }

    /// <summary>The message every "library not found" error ends with, so users always learn the two fixes.</summary>
    public static string HowToInstall(string environmentVariable) =>
        $"Run ./setup.sh at the repository root to install it under .native/, or set {environmentVariable} to the path of your own copy.";
}
