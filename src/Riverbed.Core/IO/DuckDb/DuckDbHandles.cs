using System.Runtime.InteropServices;
using DuckDB.NET.Native;

namespace Riverbed.IO.DuckDb;

/// <summary>
/// The native library comes from the DuckDB.NET.Bindings.Full package (libduckdb.so is copied beside the app by the
/// build). The first use checks that it loads, so a broken install is one clear error rather than a crash deep in a
/// scan.
/// </summary>
internal static class DuckDbNative
{
    private static readonly Lazy<string> LoadedVersion = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>DuckDB's version (e.g. v1.5.6); throws a <see cref="DuckDbException"/> when the library cannot load.</summary>
    public static string Version => LoadedVersion.Value;

    public static void EnsureLoaded() => _ = LoadedVersion.Value;

    private static string Load()
    {
        try
        {
            return NativeMethods.Startup.DuckDBLibraryVersion();
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            throw new DuckDbException(
                $"DuckDB's native library (libduckdb.so, from the DuckDB.NET.Bindings.Full package) could not be loaded: {error.Message}. " +
                "It is needed to read and write Parquet; rebuild with ./setup.sh so the build copies it beside riverbed.", error);
        }
    }
}

/// <summary>
/// Keeps a parent handle (a database, a connection, a result) alive while a child made from it lives, so the parent is
/// never destroyed first, whatever order disposals or finalizers run in. A child that is never disposed leaks its
/// parent rather than outliving it.
/// </summary>
internal sealed class DuckDbParentReference : IDisposable
{
    private SafeHandle? _parent;

    public DuckDbParentReference(SafeHandle parent)
    {
        var added = false;
        parent.DangerousAddRef(ref added);
        _parent = added ? parent : throw new ObjectDisposedException(parent.GetType().Name);
    }

    public void Dispose()
    {
        _parent?.DangerousRelease();
        _parent = null;
    }
}

/// <summary>
/// Owns a <c>duckdb_result</c> (DuckDB.NET's <see cref="DuckDBResult"/> struct). It lives in native memory so its address
/// is fixed for the whole query; release destroys the result, frees the struct and lets go of the connection.
/// </summary>
internal sealed unsafe class DuckDbResultHandle : SafeHandle
{
    private DuckDbParentReference? _connection;

    public DuckDbResultHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public ref DuckDBResult Result => ref *(DuckDBResult*)handle;

    public static DuckDbResultHandle Allocate(SafeHandle connection)
    {
        var result = new DuckDbResultHandle();
        result._connection = new DuckDbParentReference(connection);
        result.SetHandle((IntPtr)NativeMemory.AllocZeroed((nuint)sizeof(DuckDBResult)));
        return result;
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.Query.DuckDBDestroyResult(ref *(DuckDBResult*)handle);
        NativeMemory.Free((void*)handle);
        _connection?.Dispose();
        _connection = null;
        return true;
    }
}

/// <summary>Checks on text at the boundary.</summary>
internal static class DuckDbText
{
    /// <summary>
    /// DuckDB.NET passes strings as NUL-terminated UTF-8, so a NUL inside would silently cut the text short: refuse it.
    /// </summary>
    public static string RefuseNul(string text) =>
        text.Contains('\0', StringComparison.Ordinal)
            ? throw new DuckDbException($"text passed to DuckDB contains a NUL character: '{text.Replace("\0", "\\0", StringComparison.Ordinal)}'")
            : text;

    /// <summary>The bytes of a string element, read as stored (no decoding, so invalid UTF-8 stays visible to callers).</summary>
    public static unsafe ReadOnlySpan<byte> Bytes(DuckDBString* value) => new(value->Data, value->Length);
}
