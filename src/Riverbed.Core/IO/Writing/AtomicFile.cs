using Riverbed.IO.Writing;

namespace Riverbed.IO;

/// <summary>
/// Replaces a small whole file (a run record, merged stats, a report, a control file) so that a reader sees the old
/// content or the new, never half: a temporary name beside it, fsync, rename, folder fsync. Shards themselves go
/// through <see cref="ShardWriter"/>'s commit protocol, which adds the manifest.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/>, creating its folder if needed.</summary>
    /// <exception cref="IOException">The file or its folder cannot be written; nothing was replaced and no temporary is left.</exception>
    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temporary = ShardLayout.TemporaryPath(full);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            DurableFiles.Rename(temporary, full);
        }
        catch
        {
            DurableFiles.DeleteIfExists(temporary);
            throw;
        }
        DurableFiles.SyncDirectory(folder);
    }
}
