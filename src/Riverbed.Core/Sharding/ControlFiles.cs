using System.Text;
using Riverbed.IO;
using Riverbed.IO.Writing;

namespace Riverbed.Sharding;

/// <summary>
/// The output folder's control area (<see cref="ControlArea"/>, <c>{output}/.riverbed/</c>) as the worker uses it: the job
/// record (<c>assignment.json</c>), pinned shard lists (<c>lists/</c>) and scheduler logs; the committer keeps the failure
/// markers (<c>failed/</c>) there. It is hidden, so input resolution never
/// mistakes it for data when an output folder is read again. Every file in it is replaced atomically (temporary name,
/// fsync, rename, folder fsync): the filesystem is the only thing ranks share, so a reader must never see half a file.
/// </summary>
public static class ControlFiles
{
    public const string FolderName = ControlArea.FolderName;

    /// <inheritdoc cref="ControlArea.Folder"/>
    public static string Folder(string outputFolder) => ControlArea.Folder(outputFolder);

    /// <inheritdoc cref="ControlArea.PathOf"/>
    public static string PathOf(string outputFolder, string relative) => ControlArea.PathOf(outputFolder, relative);

    /// <summary>Writes <paramref name="path"/> atomically, replacing what was there.</summary>
    internal static void Replace(string path, string text) => Replace(path, Encoding.UTF8.GetBytes(text));

    internal static void Replace(string path, byte[] bytes) => AtomicFile.Replace(path, bytes);

    /// <summary>
    /// Writes <paramref name="path"/> only if no file has that name yet (atomically: of two processes racing, exactly one
    /// creates it). Returns false when it already existed.
    /// </summary>
    internal static bool CreateNew(string path, byte[] bytes)
    {
        var temporary = Stage(path, bytes);
        try
        {
            // Without overwrite, .NET moves with link()+unlink() on Linux, so an existing file is never replaced.
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            DurableFiles.DeleteIfExists(temporary);
            return false;
        }
        DurableFiles.SyncDirectory(Path.GetDirectoryName(path)!);
        return true;
    }

    private static string Stage(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = ShardLayout.TemporaryPath(path);
        using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        return temporary;
    }
}
