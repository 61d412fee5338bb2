using DuckDB.NET.Native;

namespace Riverbed.IO.DuckDb;

/// <summary>A connection: runs statements, streams query results chunk by chunk, and creates appenders.</summary>
internal sealed class DuckDbConnection : IDisposable
{
    private readonly DuckDBNativeConnection _handle;
    private readonly DuckDbParentReference _database;

    internal DuckDbConnection(DuckDBNativeConnection handle, DuckDbParentReference database)
    {
        _handle = handle;
        _database = database;
    }

    /// <summary>Runs a statement to completion (materialized) and returns the first column of the first row, if any.</summary>
    public object? Execute(string sql)
    {
        using var result = DuckDbResultHandle.Allocate(_handle);
        if (NativeMethods.Query.DuckDBQuery(_handle, DuckDbText.RefuseNul(sql), out result.Result) != DuckDBState.Success)
        {
            throw new DuckDbException(NativeMethods.Query.DuckDBResultError(ref result.Result) ?? "unknown DuckDB error");
        }
        using var query = new DuckDbQuery(result, ownsResult: false, keepAlive: []);
        using var chunk = query.FetchChunk();
        if (chunk is null || chunk.RowCount == 0 || query.Columns.Count == 0)
        {
            return null;
        }
        return chunk.GetVector(0).GetScalar(query.Columns[0].Type, 0);
    }

    /// <summary>
    /// Starts a streaming query: rows are produced as chunks are fetched, so a large file is never held in memory.
    /// </summary>
    public DuckDbQuery Stream(string sql)
    {
        DuckDBPreparedStatement? prepared = null;
        DuckDbResultHandle? result = null;
        try
        {
            if (NativeMethods.PreparedStatements.DuckDBPrepare(_handle, DuckDbText.RefuseNul(sql), out prepared) != DuckDBState.Success)
            {
                throw new DuckDbException(NativeMethods.PreparedStatements.DuckDBPrepareError(prepared) ?? "unknown DuckDB error");
            }
            result = DuckDbResultHandle.Allocate(_handle);
            if (NativeMethods.PreparedStatements.DuckDBExecutePreparedStreaming(prepared, out result.Result) != DuckDBState.Success)
            {
                throw new DuckDbException(NativeMethods.Query.DuckDBResultError(ref result.Result) ?? "unknown DuckDB error");
            }
            return new DuckDbQuery(result, ownsResult: true, keepAlive: [prepared]);
        }
        catch
        {
            result?.Dispose();
            prepared?.Dispose();
            throw;
        }
    }

    /// <summary>Asks a running query on this connection to stop; its next fetch fails with an interruption error.</summary>
    public void Interrupt() => _handle.Interrupt();

    public DuckDbAppender CreateAppender(string table)
    {
        var parent = new DuckDbParentReference(_handle);
        if (NativeMethods.Appender.DuckDBAppenderCreate(_handle, null, DuckDbText.RefuseNul(table), out var appender) != DuckDBState.Success)
        {
            var message = appender.IsInvalid ? null : DuckDbAppender.Error(appender);
            appender.Dispose();
            parent.Dispose();
            throw new DuckDbException($"DuckDB could not create an appender for table {table}: {message ?? "unknown error"}");
        }
        return new DuckDbAppender(appender, parent);
    }

    public void Dispose()
    {
        _handle.Dispose();
        _database.Dispose();
    }
}
