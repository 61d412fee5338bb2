namespace Riverbed.IO;

/// <summary>
/// What a failed write means to a user. A full disk (ENOSPC) or an exhausted quota (EDQUOT) is named as such, so a run
/// can say "the disk is full" instead of a stack trace; a read-only filesystem (EROFS) or a denied write likewise.
/// </summary>
public static class WriteErrors
{
    /// <summary>The words every disk-full message contains (summaries look for them).</summary>
    public const string DiskFullPhrase = "the disk is full";

    // Linux errno values; .NET puts the raw errno in an IOException's HResult.
    private const int NoSpace = 28;
    private const int ReadOnlyFileSystem = 30;
    private const int QuotaExceeded = 122;

    public static bool IsDiskFull(Exception error) =>
        error is IOException io && (io.HResult is NoSpace or QuotaExceeded
            || io.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase)
            || io.Message.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase))
        || (error is not IOException && error.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase));

    public static bool IsReadOnly(Exception error) =>
        error is UnauthorizedAccessException || (error is IOException io && io.HResult == ReadOnlyFileSystem);

    /// <summary>A write error as one sentence about <paramref name="what"/> (e.g. the shard), naming the cause.</summary>
    public static string Describe(Exception error, string what)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (IsDiskFull(error))
        {
            return $"{what}: {DiskFullPhrase} ({error.Message.Trim()}); nothing of this shard was committed and its temporaries were deleted. Free space and run again";
        }
        if (IsReadOnly(error))
        {
            return $"{what}: the output cannot be written ({error.Message.Trim()}); check that the output folder is writable";
        }
        return $"{what}: writing failed ({error.Message.Trim()})";
    }

    /// <summary>A write error of a shard as a <see cref="ShardWriteException"/> (which fails that shard only).</summary>
    public static ShardWriteException ForShard(Exception error, string what) => new(Describe(error, what), error);
}
