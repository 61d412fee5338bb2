namespace Riverbed.IO.DuckDb;

/// <summary>One column of a query result: its name and type tree.</summary>
internal sealed record DuckDbColumn(string Name, DuckDbTypeInfo Type);

/// <summary>A query result read chunk by chunk (up to <c>duckdb_vector_size()</c> rows each).</summary>
internal sealed unsafe class DuckDbQuery : IDisposable
{
    private readonly DuckDbResultHandle _result;
    private readonly bool _ownsResult;
    private readonly IDisposable[] _keepAlive;

    internal DuckDbQuery(DuckDbResultHandle result, bool ownsResult, IDisposable[] keepAlive)
    {
        _result = result;
        _ownsResult = ownsResult;
        _keepAlive = keepAlive;
        var api = DuckDbLibrary.Instance;
        var count = api.ColumnCount(result.Pointer);
        var columns = new List<DuckDbColumn>((int)count);
        for (ulong i = 0; i < count; i++)
        {
            var name = DuckDbText.FromNative(api.ColumnName(result.Pointer, i)) ?? $"column{i}";
            columns.Add(new DuckDbColumn(name, DuckDbTypeInfo.FromOwnedHandle(api.ColumnLogicalType(result.Pointer, i))));
        }
        Columns = columns;
    }

    public IReadOnlyList<DuckDbColumn> Columns { get; }

    /// <summary>The next chunk, or null at the end. A failure while producing rows (a corrupt page) throws here.</summary>
    public DuckDbChunk? FetchChunk()
    {
        var api = DuckDbLibrary.Instance;
        var pointer = api.FetchChunk(*_result.Pointer);
        if (pointer == IntPtr.Zero)
        {
            var error = DuckDbText.FromNative(api.ResultError(_result.Pointer));
            if (error is not null)
            {
                throw new DuckDbException(error);
            }
            return null;
        }
        var chunk = new DuckDbDataChunkHandle();
        chunk.Attach(pointer, _result);
        return new DuckDbChunk(chunk);
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
internal sealed unsafe class DuckDbChunk : IDisposable
{
    private readonly DuckDbDataChunkHandle _handle;

    internal DuckDbChunk(DuckDbDataChunkHandle handle)
    {
        _handle = handle;
        RowCount = checked((int)DuckDbLibrary.Instance.DataChunkGetSize(handle.DangerousGetHandle()));
    }

    public int RowCount { get; }

    public DuckDbVector GetVector(int column) =>
        new(DuckDbLibrary.Instance.DataChunkGetVector(_handle.DangerousGetHandle(), (ulong)column));

    public void Dispose() => _handle.Dispose();
}
