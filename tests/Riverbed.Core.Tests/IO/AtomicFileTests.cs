using Riverbed.IO;

namespace Riverbed.Core.Tests.IO;

public sealed class AtomicFileTests
{
    [Fact]
    public void Replacing_a_file_creates_its_folder_writes_the_new_bytes_and_leaves_no_temporary()
    {
        using var scratch = new ScratchFolder("atomic-file");
        var path = Path.Combine(scratch.Path, "runs", "run.json");

        AtomicFile.Replace(path, "old"u8);
        AtomicFile.Replace(path, "new content"u8);

        Assert.Equal("new content", File.ReadAllText(path));
        Assert.Equal(["run.json"], Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public void A_file_that_cannot_be_written_throws_and_leaves_the_old_content_and_no_temporary()
    {
        using var scratch = new ScratchFolder("atomic-file");
        var path = Path.Combine(scratch.Path, "stats.json");
        AtomicFile.Replace(path, "old"u8);
        Directory.CreateDirectory(Path.Combine(scratch.Path, "blocked.json"));

        Assert.ThrowsAny<IOException>(() => AtomicFile.Replace(Path.Combine(scratch.Path, "blocked.json"), "x"u8));

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Empty(Directory.EnumerateFiles(scratch.Path, "*.tmp"));
    }
}
