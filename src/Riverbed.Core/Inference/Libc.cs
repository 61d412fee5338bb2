using System.Runtime.InteropServices;

namespace Riverbed.Inference;

/// <summary>The two file-system questions .NET cannot answer: a path's canonical form and a file's hard-link count.</summary>
internal static unsafe partial class Libc
{
    /// <summary>The canonical absolute path with every symbolic link resolved, or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var resolved = RealPathNative(path, 0);
        if (resolved == 0)
        {
            return null;
        }
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            NativeMemory.Free((void*)resolved); // realpath(3) allocates with malloc; NativeMemory.Free is free(3) on Unix.
        }
    }

    /// <summary>How many directory entries name this file, or null where it cannot be asked (non-x64 or an error).</summary>
    public static long? HardLinkCount(string path)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return null;
        }
        // struct stat on x86-64 Linux: st_dev (8 bytes), st_ino (8), st_nlink (8), …; 144 bytes in all.
        var buffer = stackalloc byte[256];
        int result;
        try
        {
            result = Stat(path, buffer);
        }
        catch (EntryPointNotFoundException)
        {
            result = XStat(1, path, buffer); // glibc before 2.33 exports stat only as __xstat(_STAT_VER = 1, …)
        }
        return result == 0 ? *(long*)(buffer + 16) : null;
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "__xstat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int XStat(int version, string path, byte* buffer);
}
