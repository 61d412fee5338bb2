namespace Riverbed.IO;

/// <summary>
/// Where an output folder keeps its control files, <c>{output}/.riverbed/</c>: the failure markers the committer writes
/// (<c>failed/</c>) and, written by Sharding, the job record, pinned shard lists and scheduler logs. It is hidden, so
/// input resolution never mistakes it for data when an output folder is read again.
/// </summary>
public static class ControlArea
{
    public const string FolderName = ".riverbed";

    /// <summary>
    /// The control folder. A <c>.riverbed</c> that is a symbolic link leading out of the output folder is refused: every
    /// control file would otherwise be written (and replaced) wherever the link points.
    /// </summary>
    public static string Folder(string outputFolder) =>
        ResolvedPaths.CheckStaysInside(outputFolder, Path.Combine(Path.GetFullPath(outputFolder), FolderName));

    /// <summary>A path under the control folder; <paramref name="relative"/> is checked like an output name, and no link on the way may leave the output folder.</summary>
    public static string PathOf(string outputFolder, string relative) =>
        ResolvedPaths.CheckStaysInside(outputFolder,
            Path.Combine(Folder(outputFolder), ShardLayout.CheckRelativeName(relative).Replace('/', Path.DirectorySeparatorChar)));
}
