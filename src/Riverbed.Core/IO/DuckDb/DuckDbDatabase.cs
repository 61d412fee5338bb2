using DuckDB.NET.Native;

namespace Riverbed.IO.DuckDb;

/// <summary>An in-memory DuckDB instance with its own settings (threads, memory limit, spill folder).</summary>
internal sealed class DuckDbDatabase : IDisposable
{
    private static readonly Dictionary<int, DuckDbDatabase> SharedByThreads = [];

    private readonly DuckDBDatabase _handle;
    private readonly bool _shared;

    private DuckDbDatabase(DuckDBDatabase handle, bool shared = false)
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
        DuckDbNative.EnsureLoaded();
        if (NativeMethods.Configuration.DuckDBCreateConfig(out var config) != DuckDBState.Success)
        {
            config.Dispose();
            throw new DuckDbException("DuckDB could not create a configuration object (out of memory?)");
        }
        using (config)
        {
            foreach (var (name, value) in settings)
            {
                if (NativeMethods.Configuration.DuckDBSetConfig(config, DuckDbText.RefuseNul(name), DuckDbText.RefuseNul(value)) != DuckDBState.Success)
                {
                    throw new DuckDbException($"DuckDB rejected the setting {name}={value}");
                }
            }
            if (NativeMethods.Startup.DuckDBOpen(null, out var database, config, out var error) != DuckDBState.Success)
            {
                database.Dispose();
                throw new DuckDbException($"DuckDB could not open an in-memory database: {(string.IsNullOrEmpty(error) ? "unknown error" : error)}");
            }
            return new DuckDbDatabase(database);
        }
    }

    public DuckDbConnection Connect()
    {
        var parent = new DuckDbParentReference(_handle);
        if (NativeMethods.Startup.DuckDBConnect(_handle, out var connection) != DuckDBState.Success)
        {
            connection.Dispose();
            parent.Dispose();
            throw new DuckDbException("DuckDB could not open a connection");
        }
        return new DuckDbConnection(connection, parent);
    }

    public void Dispose()
    {
        if (!_shared)
        {
            _handle.Dispose();
        }
    }
}
