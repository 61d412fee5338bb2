using DuckDB.NET.Native;

namespace Riverbed.IO.DuckDb;

/// <summary>
/// Bulk-loads data chunks into a table. Rows become visible to queries after <see cref="Flush"/>. Riverbed fills the
/// chunks itself (see <see cref="DuckDbChunkBuilder"/>): DuckDB.NET's row appender cannot write LIST&lt;STRUCT&gt; values.
/// </summary>
internal sealed class DuckDbAppender : IDisposable
{
    private readonly DuckDBAppender _handle;
    private readonly DuckDbParentReference _connection;

    internal DuckDbAppender(DuckDBAppender handle, DuckDbParentReference connection)
    {
        _handle = handle;
        _connection = connection;
    }

    /// <summary>The table's column types as owned logical type handles (the caller builds chunks from them).</summary>
    public IReadOnlyList<DuckDBLogicalType> ColumnTypes()
    {
        var count = NativeMethods.Appender.DuckDBAppenderColumnCount(_handle);
        var types = new List<DuckDBLogicalType>((int)count);
        for (ulong i = 0; i < count; i++)
        {
            types.Add(NativeMethods.Appender.DuckDBAppenderColumnType(_handle, i));
        }
        return types;
    }

    public void Append(DuckDbChunkBuilder chunk)
    {
        if (NativeMethods.Appender.DuckDBAppendDataChunk(_handle, chunk.Handle) != DuckDBState.Success)
        {
            throw new DuckDbException($"DuckDB refused a chunk of rows: {Error(_handle)}");
        }
    }

    public void Flush()
    {
        if (NativeMethods.Appender.DuckDBAppenderFlush(_handle) != DuckDBState.Success)
        {
            throw new DuckDbException($"DuckDB could not flush appended rows: {Error(_handle)}");
        }
    }

    public void Close()
    {
        if (NativeMethods.Appender.DuckDBAppenderClose(_handle) != DuckDBState.Success)
        {
            throw new DuckDbException($"DuckDB could not close an appender: {Error(_handle)}");
        }
    }

    internal static string Error(DuckDBAppender appender)
    {
        using var error = NativeMethods.Appender.DuckDBAppenderErrorData(appender);
        if (error.IsInvalid || !NativeMethods.ErrorData.DuckDBErrorDataHasError(error))
        {
            return "unknown error";
        }
        var message = NativeMethods.ErrorData.DuckDBErrorDataMessage(error);
        return string.IsNullOrEmpty(message) ? "unknown error" : message;
    }

    // Destroying the handle also flushes; by then the caller has flushed or is abandoning the rows.
    public void Dispose()
    {
        _handle.Dispose();
        _connection.Dispose();
    }
}
