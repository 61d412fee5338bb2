namespace Riverbed.Core.Tests;

public sealed class NativeLibraryLocatorTests
{
    [Fact]
    public void An_environment_variable_pointing_nowhere_is_an_error_not_a_silent_fallback()
    {
        const string variable = "RIVERBED_TEST_LOCATOR_MISSING";
        Environment.SetEnvironmentVariable(variable, "/nonexistent/libnothing.so");
        try
        {
            var error = Assert.Throws<FileNotFoundException>(() => NativeLibraryLocator.Find(variable, "x", "libnothing.so"));
            Assert.Contains(variable, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void An_environment_variable_naming_a_real_file_wins()
    {
        const string variable = "RIVERBED_TEST_LOCATOR_PRESENT";
        using var scratch = new ScratchFolder("locator");
        var library = scratch.File("libmine.so");
        File.WriteAllBytes(library, [0x7f]);
        Environment.SetEnvironmentVariable(variable, library);
        try
        {
            Assert.Equal(library, NativeLibraryLocator.Find(variable, "onnxruntime", "libonnxruntime.so"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void Setup_installs_libraries_where_the_locator_looks()
    {
        var found = NativeLibraryLocator.Find("RIVERBED_TEST_LOCATOR_UNSET", "onnxruntime", "libonnxruntime.so");
        Assert.Equal(Path.Combine(TestPaths.RepositoryRoot, ".native", "onnxruntime", "libonnxruntime.so"), found);
    }
}
