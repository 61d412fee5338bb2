using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Riverbed.IO.Writing;

/// <summary>
/// The file-system steps of the commit protocol: fsync of files and of their folders (so a rename survives a power
/// loss), atomic renames, and hashes. .NET has no API to fsync a folder, so that one call goes to libc.
/// </summary>
internal static unsafe class DurableFiles
{
    private const int OpenReadOnly = 0;
    private const int OpenDirectory = 0x10000;
    private const int OpenCloseOnExec = 0x80000;

    private static readonly Lazy<LibC?> C = new(LibC.TryLoad);

    /// <summary>Forces a file's data and metadata to stable storage.</summary>
    public static void SyncFile(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        if (C.Value is { } libc)
        {
            if (libc.Fsync((int)handle.DangerousGetHandle()) != 0)
            {
                throw new IOException($"fsync failed for {path} (errno {Marshal.GetLastPInvokeError()})");
            }
        }
    }

    /// <summary>Forces a folder's entries (new names, renames) to stable storage. A no-op where there is no libc.</summary>
    public static void SyncDirectory(string path)
    {
        if (C.Value is not { } libc)
        {
            return;
        }
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* name = bytes)
        {
            fd = libc.Open(name, OpenReadOnly | OpenDirectory | OpenCloseOnExec);
        }
        if (fd < 0)
        {
            throw new IOException($"cannot open folder {path} to sync it");
        }
        try
        {
            if (libc.Fsync(fd) != 0)
            {
                throw new IOException($"fsync failed for folder {path}");
            }
        }
        finally
        {
            libc.Close(fd);
        }
    }

    /// <summary>Renames over any existing file; atomic on POSIX file systems when both names share a folder.</summary>
    public static void Rename(string from, string to) => File.Move(from, to, overwrite: true);

    public static (long Bytes, string Sha256) Measure(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var hash = SHA256.HashData(stream);
        return (stream.Length, Convert.ToHexStringLower(hash));
    }

    public static void DeleteIfExists(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    private sealed class LibC
    {
        private LibC(IntPtr library)
        {
            Open = (delegate* unmanaged<byte*, int, int>)NativeLibrary.GetExport(library, "open");
            Fsync = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(library, "fsync");
            Close = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(library, "close");
        }

        public delegate* unmanaged<byte*, int, int> Open { get; }

        public delegate* unmanaged<int, int> Fsync { get; }

        public delegate* unmanaged<int, int> Close { get; }

        public static LibC? TryLoad() =>
            OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out var library) ? new LibC(library) : null;
    }
}

/// <summary>
/// Test-only fault injection: when RIVERBED_FAULT_KILL_AT names a commit phase, the process kills itself (SIGKILL, no
/// cleanup) on reaching it, so tests can show that every phase of the commit protocol survives a crash.
/// Phases: mid-write, before-fsync, before-rename, before-manifest, mid-manifest.
/// </summary>
internal static class FaultInjection
{
    public const string EnvironmentVariable = "RIVERBED_FAULT_KILL_AT";

    private static readonly string? Phase = Environment.GetEnvironmentVariable(EnvironmentVariable);

    /// <summary>
    /// Test-only: when RIVERBED_FAULT_DISK_FULL names a shard (its base name), committing it fails as a full disk does
    /// (ENOSPC), for machines where a test cannot mount a small filesystem to fill for real.
    /// </summary>
    public const string DiskFullVariable = "RIVERBED_FAULT_DISK_FULL";

    private static readonly string? DiskFullShard = Environment.GetEnvironmentVariable(DiskFullVariable);

    public static void DiskFullAt(string shardBaseName)
    {
        if (DiskFullShard is not null && string.Equals(DiskFullShard, shardBaseName, StringComparison.Ordinal))
        {
            throw new IOException("No space left on device (injected by " + DiskFullVariable + ")", 28);
        }
    }

    /// <summary>
    /// Test-only: when RIVERBED_FAULT_HOLD_SHARD names a shard (its base name) and RIVERBED_FAULT_HOLD_UNTIL a file, the
    /// writer of that shard stops at a known point — once it holds the shard's lock, or, with RIVERBED_FAULT_HOLD_ROW=n,
    /// just before it writes input row n (the rows before it are in its temporaries) — creates <c>{until}.held</c>
    /// (holding its pid) and waits there until the file <c>{until}</c> exists. Tests use it to meet a worker at that point
    /// for as long as they need (another worker, a signal, a kill), so what they check never depends on timing.
    /// </summary>
    public const string HoldShardVariable = "RIVERBED_FAULT_HOLD_SHARD";

    /// <inheritdoc cref="HoldShardVariable"/>
    public const string HoldUntilVariable = "RIVERBED_FAULT_HOLD_UNTIL";

    /// <inheritdoc cref="HoldShardVariable"/>
    public const string HoldRowVariable = "RIVERBED_FAULT_HOLD_ROW";

    private static readonly string? HoldShard = Environment.GetEnvironmentVariable(HoldShardVariable);

    private static readonly string? HoldUntil = Environment.GetEnvironmentVariable(HoldUntilVariable);

    private static readonly long? HoldRow =
        long.TryParse(Environment.GetEnvironmentVariable(HoldRowVariable), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var row)
            ? row : null;

    /// <summary>The longest a held writer waits before it goes on anyway (a test that forgot to release it then fails on its own).</summary>
    private static readonly TimeSpan LongestHold = TimeSpan.FromMinutes(10);

    /// <summary>The hold point: <paramref name="row"/> is null when the writer has just taken the shard's lock.</summary>
    public static void HoldAt(string shardBaseName, long? row)
    {
        if (HoldShard is null || HoldUntil is not { Length: > 0 } until || HoldRow != row
            || !string.Equals(HoldShard, shardBaseName, StringComparison.Ordinal))
        {
            return;
        }
        File.WriteAllText(until + ".held", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var deadline = Environment.TickCount64 + (long)LongestHold.TotalMilliseconds;
        while (!File.Exists(until) && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(10);
        }
    }

    public static void At(string phase)
    {
        if (Phase is not null && string.Equals(Phase, phase, StringComparison.Ordinal))
        {
            Console.Out.Flush();
            Console.Error.Flush();
            System.Diagnostics.Process.GetCurrentProcess().Kill();
            Thread.Sleep(Timeout.Infinite);
        }
    }
}
