namespace Riverbed.Testing;

/// <summary>Where tests find the repository, the shared fixtures beside it, and scratch space.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    /// <summary>The repository root (the folder holding Riverbed.sln).</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>
    /// The shared material: RIVERBED_SHARED_DIR when set, else <c>../shared</c> beside the checkout, as CI lays it out.
    /// </summary>
    public static string Shared
    {
        get
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("RIVERBED_SHARED_DIR");
            var path = string.IsNullOrWhiteSpace(fromEnvironment)
                ? Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"))
                : Path.GetFullPath(fromEnvironment);
            if (!Directory.Exists(Path.Combine(path, "fixtures")))
            {
                throw new DirectoryNotFoundException(
                    $"Shared fixtures not found at '{path}'. Check out ../shared beside the repository or set RIVERBED_SHARED_DIR.");
            }
            return path;
        }
    }

    public static string Fixtures => Path.Combine(Shared, "fixtures");

    public static string Fixture(params string[] parts) => Path.Combine([Fixtures, .. parts]);

    /// <summary>A fresh, empty folder under the system temp folder; callers delete it when they are done.</summary>
    public static string NewScratchFolder(string hint = "test")
    {
        var path = Path.Combine(Path.GetTempPath(), "riverbed-tests", $"{hint}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Riverbed.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"No Riverbed.sln above '{AppContext.BaseDirectory}'.");
    }
}

/// <summary>A scratch folder that deletes itself.</summary>
internal sealed class ScratchFolder : IDisposable
{
    public ScratchFolder(string hint = "test") => Path = TestPaths.NewScratchFolder(hint);

    public string Path { get; }

    public string File(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A test that failed may still hold a file open; leaving temp files behind is harmless.
        }
    }
}
