using System.Runtime.InteropServices;

namespace Riverbed.IO.DuckDb;

/// <summary>
/// Base of every DuckDB handle. A child (a connection, a result, a chunk) holds a reference on the handle it came from,
/// so the parent is never destroyed first, whatever order finalizers or disposals run in.
/// </summary>
internal abstract class DuckDbHandle : SafeHandle
{
    private SafeHandle? _parent;

    protected DuckDbHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected static DuckDbLibrary Api => DuckDbLibrary.Instance;

    /// <summary>Takes ownership of <paramref name="value"/> and keeps <paramref name="parent"/> alive until release.</summary>
    public void Attach(IntPtr value, SafeHandle? parent)
    {
        if (value == IntPtr.Zero)
        {
            return;
        }
        if (parent is not null)
        {
            var added = false;
            parent.DangerousAddRef(ref added);
            _parent = parent;
        }
        SetHandle(value);
    }

    protected sealed override bool ReleaseHandle()
    {
        Destroy(handle);
        _parent?.DangerousRelease();
        _parent = null;
        return true;
    }

    protected abstract void Destroy(IntPtr value);
}

internal sealed unsafe class DuckDbDatabaseHandle : DuckDbHandle
{
    protected override void Destroy(IntPtr value) => Api.Close(&value);
}

internal sealed unsafe class DuckDbConnectionHandle : DuckDbHandle
{
    protected override void Destroy(IntPtr value) => Api.Disconnect(&value);
}

internal sealed unsafe class DuckDbConfigHandle : DuckDbHandle
{
    protected override void Destroy(IntPtr value) => Api.DestroyConfig(&value);
}

internal sealed unsafe class DuckDbPreparedHandle : DuckDbHandle
{
    protected override void Destroy(IntPtr value) => Api.DestroyPrepare(&value);
}

internal sealed unsafe class DuckDbPendingHandle : DuckDbHandle
{
    protected override void Destroy(IntPtr value) => Api.DestroyPending(&value);
}

internal sealed unsafe class DuckDbDataChunkHandle : DuckDbHandle
{
    protected override void Destroy(IntPtr value) => Api.DestroyDataChunk(&value);
}

internal sealed unsafe class DuckDbAppenderHandle : DuckDbHandle
{
    // Destroy also flushes; by the time a handle is released the caller has flushed or is abandoning the rows.
    protected override void Destroy(IntPtr value) => Api.AppenderDestroy(&value);
}

internal sealed unsafe class DuckDbLogicalTypeHandle : DuckDbHandle
{
    protected override void Destroy(IntPtr value) => Api.DestroyLogicalType(&value);
}

/// <summary>
/// Owns a <c>duckdb_result</c>: the struct lives in native memory (DuckDB keeps pointers into it), and release destroys
/// the result and frees the struct.
/// </summary>
internal sealed unsafe class DuckDbResultHandle : DuckDbHandle
{
    public static DuckDbResultHandle Allocate(SafeHandle parent)
    {
        var result = new DuckDbResultHandle();
        result.Attach((IntPtr)NativeMemory.AllocZeroed((nuint)sizeof(DuckDbResultStruct)), parent);
        return result;
    }

    public DuckDbResultStruct* Pointer => (DuckDbResultStruct*)handle;

    protected override void Destroy(IntPtr value)
    {
        Api.DestroyResult((DuckDbResultStruct*)value);
        NativeMemory.Free((void*)value);
    }
}
