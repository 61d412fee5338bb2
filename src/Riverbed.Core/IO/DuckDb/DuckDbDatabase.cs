namespace Riverbed.IO.DuckDb;

/// <summary>An in-memory DuckDB instance with its own settings (threads, memory limit, spill folder).</summary>
internal sealed unsafe class DuckDbDatabase : IDisposable
{
    private static readonly Dictionary<int, DuckDbDatabase> SharedByThreads = [];

    private readonly DuckDbDatabaseHandle _handle;
    private readonly bool _shared;

    private DuckDbDatabase(DuckDbDatabaseHandle handle, bool shared = false)
    {
        _handle = handle;
        _shared = shared;
    }

    /// <summary>
    /// A process-wide in-memory instance for scans (opening one costs tens of milliseconds, a connection almost
    /// nothing). Each reader takes its own connection; instances live until the process ends.
    /// </summary>
    public static DuckDbDatabase SharedForScans(int threads)
    {
        lock (SharedByThreads)
        {
            if (!SharedByThreads.TryGetValue(threads, out var database))
            {
                var opened = OpenInMemory(
                [
                    new("threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    new("autoinstall_known_extensions", "false"),
                    new("autoload_known_extensions", "false"),
                ]);
                database = new DuckDbDatabase(opened._handle, shared: true);
                SharedByThreads[threads] = database;
            }
            return database;
        }
    }

    /// <summary>Opens an in-memory database. Settings are DuckDB configuration options, e.g. threads=1.</summary>
    public static DuckDbDatabase OpenInMemory(IEnumerable<KeyValuePair<string, string>> settings)
    {
        var api = DuckDbLibrary.Instance;
        using var config = new DuckDbConfigHandle();
        IntPtr configPointer;
        if (api.CreateConfig(&configPointer) != DuckDbState.Success)
        {
            throw new DuckDbException("DuckDB could not create a configuration object (out of memory?)");
        }
        config.Attach(configPointer, parent: null);
        foreach (var (name, value) in settings)
        {
            fixed (byte* namePointer = DuckDbText.ToNative(name))
            fixed (byte* valuePointer = DuckDbText.ToNative(value))
            {
                if (api.SetConfig(configPointer, namePointer, valuePointer) != DuckDbState.Success)
                {
                    throw new DuckDbException($"DuckDB rejected the setting {name}={value}");
                }
            }
        }
        var database = new DuckDbDatabaseHandle();
        IntPtr databasePointer;
        byte* error = null;
        var state = api.OpenExt(null, &databasePointer, configPointer, &error);
        database.Attach(databasePointer, parent: null);
        if (state != DuckDbState.Success)
        {
            var message = DuckDbText.FromNative(error) ?? "unknown error";
            if (error is not null)
            {
                api.Free(error);
            }
            database.Dispose();
            throw new DuckDbException($"DuckDB could not open an in-memory database: {message}");
        }
        return new DuckDbDatabase(database);
    }

    public DuckDbConnection Connect()
    {
        var connection = new DuckDbConnectionHandle();
        IntPtr pointer;
        var state = DuckDbLibrary.Instance.Connect(_handle.DangerousGetHandle(), &pointer);
        connection.Attach(pointer, _handle);
        if (state != DuckDbState.Success)
        {
            connection.Dispose();
            throw new DuckDbException("DuckDB could not open a connection");
        }
        return new DuckDbConnection(connection);
    }

    public void Dispose()
    {
        if (!_shared)
        {
            _handle.Dispose();
        }
    }
}
