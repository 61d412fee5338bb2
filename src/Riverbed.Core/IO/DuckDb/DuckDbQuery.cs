using DuckDB.NET.Native;

namespace Riverbed.IO.DuckDb;

/// <summary>One column of a query result: its name and type tree.</summary>
internal sealed record DuckDbColumn(string Name, DuckDbTypeInfo Type);

/// <summary>A query result read chunk by chunk (up to <c>duckdb_vector_size()</c> rows each).</summary>
internal sealed class DuckDbQuery : IDisposable
{
    private readonly DuckDbResultHandle _result;
    private readonly bool _ownsResult;
    private readonly IDisposable[] _keepAlive;

    internal DuckDbQuery(DuckDbResultHandle result, bool ownsResult, IDisposable[] keepAlive)
    {
        _result = result;
        _ownsResult = ownsResult;
        _keepAlive = keepAlive;
        var count = NativeMethods.Query.DuckDBColumnCount(ref result.Result);
        var columns = new List<DuckDbColumn>((int)count);
        for (long i = 0; i < (long)count; i++)
        {
            var name = NativeMethods.Query.DuckDBColumnName(ref result.Result, i) ?? $"column{i}";
            using var type = NativeMethods.Query.DuckDBColumnLogicalType(ref result.Result, i);
            columns.Add(new DuckDbColumn(name, DuckDbTypeInfo.FromHandle(type)));
        }
        Columns = columns;
    }

    public IReadOnlyList<DuckDbColumn> Columns { get; }

    /// <summary>The next chunk, or null at the end. A failure while producing rows (a corrupt page) throws here.</summary>
    public DuckDbChunk? FetchChunk()
    {
        var chunk = NativeMethods.Query.DuckDBFetchChunk(_result.Result);
        if (chunk.IsInvalid)
        {
            chunk.Dispose();
            var error = NativeMethods.Query.DuckDBResultError(ref _result.Result);
            if (error is not null)
            {
                throw new DuckDbException(error);
            }
            return null;
        }
        return new DuckDbChunk(chunk, new DuckDbParentReference(_result));
    }

    public void Dispose()
    {
        if (_ownsResult)
        {
            _result.Dispose();
        }
        foreach (var item in _keepAlive)
        {
            item.Dispose();
        }
    }
}

/// <summary>A chunk of rows; its vectors are valid until it is disposed.</summary>
internal sealed class DuckDbChunk : IDisposable
{
    private readonly DuckDBDataChunk _handle;
    private readonly DuckDbParentReference _result;

    internal DuckDbChunk(DuckDBDataChunk handle, DuckDbParentReference result)
    {
        _handle = handle;
        _result = result;
        RowCount = checked((int)NativeMethods.DataChunks.DuckDBDataChunkGetSize(handle));
    }

    public int RowCount { get; }

    public DuckDbVector GetVector(int column) => new(NativeMethods.DataChunks.DuckDBDataChunkGetVector(_handle, column));

    public void Dispose()
    {
        _handle.Dispose();
        _result.Dispose();
    }
}
