using System.Text;
using DuckDB.NET.Native;

namespace Riverbed.IO.DuckDb;

/// <summary>
/// A view of one DuckDB vector (a column of a chunk, or the child of a LIST/STRUCT/ARRAY). Valid only while the chunk
/// that owns it lives. Reads follow duckdb.h: a validity bitmask of 64-row words (null pointer = all valid), fixed-width
/// values in the data array, <see cref="DuckDBString"/> for VARCHAR/BLOB, <see cref="DuckDBListEntry"/> for LIST.
/// </summary>
internal readonly unsafe struct DuckDbVector
{
    private readonly IntPtr _vector;

    public DuckDbVector(IntPtr vector) => _vector = vector;

    public IntPtr Handle => _vector;

    public void* Data => NativeMethods.Vectors.DuckDBVectorGetData(_vector);

    public ulong* Validity => NativeMethods.Vectors.DuckDBVectorGetValidity(_vector);

    public static bool IsValid(ulong* validity, ulong row) =>
        validity is null || (validity[row >> 6] & (1UL << (int)(row & 63))) != 0;

    /// <summary>The bytes of row <paramref name="row"/> of a VARCHAR or BLOB vector's data, as stored (never decoded here).</summary>
    public static ReadOnlySpan<byte> StringBytes(void* data, ulong row) => DuckDbText.Bytes((DuckDBString*)data + row);

    public DuckDbVector ListChild => new(NativeMethods.Vectors.DuckDBListVectorGetChild(_vector));

    public DuckDbVector ArrayChild => new(NativeMethods.Vectors.DuckDBArrayVectorGetChild(_vector));

    public DuckDbVector StructChild(int index) => new(NativeMethods.Vectors.DuckDBStructVectorGetChild(_vector, index));

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
            DuckDBType.Boolean => ((byte*)data)[row] != 0,
            DuckDBType.Integer => (long)((int*)data)[row],
            DuckDBType.BigInt => ((long*)data)[row],
            DuckDBType.UnsignedBigInt => (long)((ulong*)data)[row],
            DuckDBType.Double => ((double*)data)[row],
            DuckDBType.Varchar => Encoding.UTF8.GetString(StringBytes(data, row)),
            _ => throw new DuckDbException($"Riverbed does not read scalar results of type {type}"),
        };
    }
}

/// <summary>Writes into vectors of a chunk that Riverbed builds (for appending rows to a table).</summary>
internal static unsafe class DuckDbVectorWriter
{
    public static void SetNull(DuckDbVector vector, ulong row)
    {
        NativeMethods.Vectors.DuckDBVectorEnsureValidityWritable(vector.Handle);
        var validity = NativeMethods.Vectors.DuckDBVectorGetValidity(vector.Handle);
        validity[row >> 6] &= ~(1UL << (int)(row & 63));
    }

    public static void SetString(DuckDbVector vector, ulong row, ReadOnlySpan<byte> utf8)
    {
        fixed (byte* bytes = utf8)
        {
            NativeMethods.Vectors.DuckDBVectorAssignStringElementLength(vector.Handle, row, bytes, utf8.Length);
        }
    }

    public static void Set<T>(DuckDbVector vector, ulong row, T value)
        where T : unmanaged => ((T*)vector.Data)[row] = value;

    /// <summary>Appends <paramref name="count"/> child slots to a LIST vector for <paramref name="row"/>; returns the first.</summary>
    public static ulong AddListEntries(DuckDbVector list, ulong row, ulong count)
    {
        var offset = (ulong)NativeMethods.Vectors.DuckDBListVectorGetSize(list.Handle);
        if (NativeMethods.Vectors.DuckDBListVectorReserve(list.Handle, offset + count) != DuckDBState.Success
            || NativeMethods.Vectors.DuckDBListVectorSetSize(list.Handle, offset + count) != DuckDBState.Success)
        {
            throw new DuckDbException($"DuckDB could not grow a list vector to {offset + count} entries");
        }
        ((DuckDBListEntry*)list.Data)[row] = new DuckDBListEntry(offset, count);
        return offset;
    }
}

/// <summary>A data chunk that Riverbed fills row by row and hands to an appender.</summary>
internal sealed class DuckDbChunkBuilder : IDisposable
{
    private readonly IntPtr[] _types;
    private DuckDBDataChunk _chunk;

    /// <param name="types">Logical type handles (borrowed; they must outlive this builder).</param>
    public DuckDbChunkBuilder(IReadOnlyList<DuckDBLogicalType> types)
    {
        _types = types.Select(type => type.DangerousGetHandle()).ToArray();
        Capacity = checked((int)NativeMethods.Helpers.DuckDBVectorSize());
        _chunk = Create();
    }

    public int Capacity { get; }

    public int RowCount { get; private set; }

    public bool IsFull => RowCount == Capacity;

    internal DuckDBDataChunk Handle => _chunk;

    public DuckDbVector Vector(int column) => new(NativeMethods.DataChunks.DuckDBDataChunkGetVector(_chunk, column));

    /// <summary>Claims the next row slot; values are then written with <see cref="DuckDbVectorWriter"/>.</summary>
    public ulong NextRow()
    {
        if (IsFull)
        {
            throw new InvalidOperationException("the chunk is full; append and reset it first");
        }
        var row = (ulong)RowCount++;
        NativeMethods.DataChunks.DuckDBDataChunkSetSize(_chunk, (ulong)RowCount);
        return row;
    }

    /// <summary>Starts a fresh chunk (list child vectors keep their size across a reset, so a new chunk is simplest).</summary>
    public void Reset()
    {
        _chunk.Dispose();
        _chunk = Create();
        RowCount = 0;
    }

    private DuckDBDataChunk Create()
    {
        var handle = NativeMethods.DataChunks.DuckDBCreateDataChunk(_types, (ulong)_types.Length);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new DuckDbException("DuckDB could not create a data chunk");
        }
        return handle;
    }

    public void Dispose() => _chunk.Dispose();
}
