namespace Riverbed.IO.DuckDb;

/// <summary>A connection: runs statements, streams query results chunk by chunk, and creates appenders.</summary>
internal sealed unsafe class DuckDbConnection : IDisposable
{
    private readonly DuckDbConnectionHandle _handle;

    internal DuckDbConnection(DuckDbConnectionHandle handle) => _handle = handle;

    private static DuckDbLibrary Api => DuckDbLibrary.Instance;

    /// <summary>Runs a statement to completion (materialized) and returns the first column of the first row, if any.</summary>
    public object? Execute(string sql)
    {
        using var result = DuckDbResultHandle.Allocate(_handle);
        DuckDbState state;
        fixed (byte* text = DuckDbText.ToNative(sql))
        {
            state = Api.Query(_handle.DangerousGetHandle(), text, result.Pointer);
        }
        if (state != DuckDbState.Success)
        {
            throw new DuckDbException(DuckDbText.FromNative(Api.ResultError(result.Pointer)) ?? "unknown DuckDB error");
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
        var prepared = new DuckDbPreparedHandle();
        var pending = new DuckDbPendingHandle();
        DuckDbResultHandle? result = null;
        try
        {
            IntPtr preparedPointer;
            DuckDbState state;
            fixed (byte* text = DuckDbText.ToNative(sql))
            {
                state = Api.Prepare(_handle.DangerousGetHandle(), text, &preparedPointer);
            }
            prepared.Attach(preparedPointer, _handle);
            if (state != DuckDbState.Success)
            {
                throw new DuckDbException(DuckDbText.FromNative(Api.PrepareError(preparedPointer)) ?? "unknown DuckDB error");
            }
            IntPtr pendingPointer;
            state = Api.PendingPreparedStreaming(preparedPointer, &pendingPointer);
            pending.Attach(pendingPointer, prepared);
            if (state != DuckDbState.Success)
            {
                throw new DuckDbException(DuckDbText.FromNative(Api.PendingError(pendingPointer)) ?? "unknown DuckDB error");
            }
            result = DuckDbResultHandle.Allocate(_handle);
            if (Api.ExecutePending(pendingPointer, result.Pointer) != DuckDbState.Success)
            {
                throw new DuckDbException(DuckDbText.FromNative(Api.ResultError(result.Pointer)) ?? "unknown DuckDB error");
            }
            return new DuckDbQuery(result, ownsResult: true, keepAlive: [pending, prepared]);
        }
        catch
        {
            result?.Dispose();
            pending.Dispose();
            prepared.Dispose();
            throw;
        }
    }

    /// <summary>Asks a running query on this connection to stop; its next fetch fails with an interruption error.</summary>
    public void Interrupt() => Api.Interrupt(_handle.DangerousGetHandle());

    public DuckDbAppender CreateAppender(string table)
    {
        var appender = new DuckDbAppenderHandle();
        IntPtr pointer;
        DuckDbState state;
        fixed (byte* name = DuckDbText.ToNative(table))
        {
            state = Api.AppenderCreate(_handle.DangerousGetHandle(), null, name, &pointer);
        }
        appender.Attach(pointer, _handle);
        if (state != DuckDbState.Success)
        {
            var message = pointer == IntPtr.Zero ? null : DuckDbText.FromNative(Api.AppenderError(pointer));
            appender.Dispose();
            throw new DuckDbException($"DuckDB could not create an appender for table {table}: {message ?? "unknown error"}");
        }
        return new DuckDbAppender(appender);
    }

    public void Dispose() => _handle.Dispose();
}
