using System.Text;

namespace Riverbed.IO.DuckDb;

/// <summary>
/// A view of one DuckDB vector (a column of a chunk, or the child of a LIST/STRUCT/ARRAY). Valid only while the chunk
/// that owns it lives. Reads follow duckdb.h: a validity bitmask of 64-row words (null pointer = all valid), fixed-width
/// values in the data array, <c>duckdb_string_t</c> for VARCHAR/BLOB, <c>duckdb_list_entry</c> for LIST.
/// </summary>
internal readonly unsafe struct DuckDbVector
{
    private readonly IntPtr _vector;

    public DuckDbVector(IntPtr vector) => _vector = vector;

    public IntPtr Handle => _vector;

    public void* Data => DuckDbLibrary.Instance.VectorGetData(_vector);

    public ulong* Validity => DuckDbLibrary.Instance.VectorGetValidity(_vector);

    public static bool IsValid(ulong* validity, ulong row) =>
        validity is null || (validity[row >> 6] & (1UL << (int)(row & 63))) != 0;

    public DuckDbVector ListChild => new(DuckDbLibrary.Instance.ListVectorGetChild(_vector));

    public DuckDbVector ArrayChild => new(DuckDbLibrary.Instance.ArrayVectorGetChild(_vector));

    public DuckDbVector StructChild(int index) => new(DuckDbLibrary.Instance.StructVectorGetChild(_vector, (ulong)index));

    /// <summary>A single value as a managed object (for small control queries such as COPY row counts).</summary>
    public object? GetScalar(DuckDbTypeInfo type, ulong row)
    {
        if (!IsValid(Validity, row))
        {
            return null;
        }
        var data = Data;
        return type.Id switch
        {
            DuckDbType.Boolean => ((byte*)data)[row] != 0,
            DuckDbType.Integer => (long)((int*)data)[row],
            DuckDbType.BigInt => ((long*)data)[row],
            DuckDbType.UBigInt => (long)((ulong*)data)[row],
            DuckDbType.Double => ((double*)data)[row],
            DuckDbType.Varchar => Encoding.UTF8.GetString(DuckDbStringT.Bytes((DuckDbStringT*)data + row)),
            _ => throw new DuckDbException($"Riverbed does not read scalar results of type {type}"),
        };
    }
}

/// <summary>Writes into vectors of a chunk that Riverbed builds (for appending rows to a table).</summary>
internal static unsafe class DuckDbVectorWriter
{
    public static void SetNull(DuckDbVector vector, ulong row)
    {
        var api = DuckDbLibrary.Instance;
        api.VectorEnsureValidityWritable(vector.Handle);
        var validity = api.VectorGetValidity(vector.Handle);
        validity[row >> 6] &= ~(1UL << (int)(row & 63));
    }

    public static void SetString(DuckDbVector vector, ulong row, ReadOnlySpan<byte> utf8)
    {
        fixed (byte* bytes = utf8)
        {
            DuckDbLibrary.Instance.VectorAssignStringElementLength(vector.Handle, row, bytes, (ulong)utf8.Length);
        }
    }

    public static void Set<T>(DuckDbVector vector, ulong row, T value)
        where T : unmanaged => ((T*)vector.Data)[row] = value;

    /// <summary>Appends <paramref name="count"/> child slots to a LIST vector for <paramref name="row"/>; returns the first.</summary>
    public static ulong AddListEntries(DuckDbVector list, ulong row, ulong count)
    {
        var api = DuckDbLibrary.Instance;
        var offset = api.ListVectorGetSize(list.Handle);
        if (api.ListVectorReserve(list.Handle, offset + count) != DuckDbState.Success
            || api.ListVectorSetSize(list.Handle, offset + count) != DuckDbState.Success)
        {
            throw new DuckDbException($"DuckDB could not grow a list vector to {offset + count} entries");
        }
        ((DuckDbListEntry*)list.Data)[row] = new DuckDbListEntry { Offset = offset, Length = count };
        return offset;
    }
}

/// <summary>A data chunk that Riverbed fills row by row and hands to an appender.</summary>
internal sealed unsafe class DuckDbChunkBuilder : IDisposable
{
    private readonly IntPtr[] _types;
    private DuckDbDataChunkHandle _chunk;

    /// <param name="types">Logical type handles (borrowed; they must outlive this builder).</param>
    public DuckDbChunkBuilder(IReadOnlyList<DuckDbLogicalTypeHandle> types)
    {
        _types = types.Select(type => type.DangerousGetHandle()).ToArray();
        Capacity = checked((int)DuckDbLibrary.Instance.VectorSize());
        _chunk = Create();
    }

    public int Capacity { get; }

    public int RowCount { get; private set; }

    public bool IsFull => RowCount == Capacity;

    internal IntPtr Handle => _chunk.DangerousGetHandle();

    public DuckDbVector Vector(int column) =>
        new(DuckDbLibrary.Instance.DataChunkGetVector(_chunk.DangerousGetHandle(), (ulong)column));

    /// <summary>Claims the next row slot; values are then written with <see cref="DuckDbVectorWriter"/>.</summary>
    public ulong NextRow()
    {
        if (IsFull)
        {
            throw new InvalidOperationException("the chunk is full; append and reset it first");
        }
        var row = (ulong)RowCount++;
        DuckDbLibrary.Instance.DataChunkSetSize(_chunk.DangerousGetHandle(), (ulong)RowCount);
        return row;
    }

    /// <summary>Starts a fresh chunk (list child vectors keep their size across a reset, so a new chunk is simplest).</summary>
    public void Reset()
    {
        _chunk.Dispose();
        _chunk = Create();
        RowCount = 0;
    }

    private DuckDbDataChunkHandle Create()
    {
        var handle = new DuckDbDataChunkHandle();
        fixed (IntPtr* types = _types)
        {
            handle.Attach(DuckDbLibrary.Instance.CreateDataChunk(types, (ulong)_types.Length), parent: null);
        }
        if (handle.IsInvalid)
        {
            throw new DuckDbException("DuckDB could not create a data chunk");
        }
        return handle;
    }

    public void Dispose() => _chunk.Dispose();
}
