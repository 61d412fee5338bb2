namespace Riverbed.IO.DuckDb;

/// <summary>Bulk-loads data chunks into a table. Rows become visible to queries after <see cref="Flush"/>.</summary>
internal sealed unsafe class DuckDbAppender : IDisposable
{
    private readonly DuckDbAppenderHandle _handle;

    internal DuckDbAppender(DuckDbAppenderHandle handle) => _handle = handle;

    private static DuckDbLibrary Api => DuckDbLibrary.Instance;

    /// <summary>The table's column types as owned logical type handles (the caller builds chunks from them).</summary>
    public IReadOnlyList<DuckDbLogicalTypeHandle> ColumnTypes()
    {
        var count = Api.AppenderColumnCount(_handle.DangerousGetHandle());
        var types = new List<DuckDbLogicalTypeHandle>((int)count);
        for (ulong i = 0; i < count; i++)
        {
            var type = new DuckDbLogicalTypeHandle();
            type.Attach(Api.AppenderColumnType(_handle.DangerousGetHandle(), i), parent: null);
            types.Add(type);
        }
        return types;
    }

    public void Append(DuckDbChunkBuilder chunk)
    {
        if (Api.AppendDataChunk(_handle.DangerousGetHandle(), chunk.Handle) != DuckDbState.Success)
        {
            throw new DuckDbException($"DuckDB refused a chunk of rows: {Error()}");
        }
    }

    public void Flush()
    {
        if (Api.AppenderFlush(_handle.DangerousGetHandle()) != DuckDbState.Success)
        {
            throw new DuckDbException($"DuckDB could not flush appended rows: {Error()}");
        }
    }

    public void Close()
    {
        if (Api.AppenderClose(_handle.DangerousGetHandle()) != DuckDbState.Success)
        {
            throw new DuckDbException($"DuckDB could not close an appender: {Error()}");
        }
    }

    private string Error() => DuckDbText.FromNative(Api.AppenderError(_handle.DangerousGetHandle())) ?? "unknown error";

    public void Dispose() => _handle.Dispose();
}
