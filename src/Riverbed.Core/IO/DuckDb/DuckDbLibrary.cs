using System.Runtime.InteropServices;

namespace Riverbed.IO.DuckDb;

/// <summary>
/// The subset of DuckDB's C API that Riverbed uses, resolved once from libduckdb.so into unmanaged function pointers.
/// Signatures follow duckdb.h (v1.5): <c>idx_t</c> is <c>ulong</c>, C <c>bool</c> is one byte, handles are opaque pointers,
/// and <c>duckdb_result</c> is a 48-byte struct that some functions take by value.
/// </summary>
internal sealed unsafe class DuckDbLibrary
{
    public const string EnvironmentVariable = "RIVERBED_DUCKDB_LIB";

    private static readonly Lazy<DuckDbLibrary> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    private DuckDbLibrary(IntPtr library, string path)
    {
        Path = path;
        OpenExt = (delegate* unmanaged<byte*, IntPtr*, IntPtr, byte**, DuckDbState>)Export(library, path, "duckdb_open_ext");
        Close = (delegate* unmanaged<IntPtr*, void>)Export(library, path, "duckdb_close");
        Connect = (delegate* unmanaged<IntPtr, IntPtr*, DuckDbState>)Export(library, path, "duckdb_connect");
        Disconnect = (delegate* unmanaged<IntPtr*, void>)Export(library, path, "duckdb_disconnect");
        Interrupt = (delegate* unmanaged<IntPtr, void>)Export(library, path, "duckdb_interrupt");
        LibraryVersion = (delegate* unmanaged<byte*>)Export(library, path, "duckdb_library_version");
        CreateConfig = (delegate* unmanaged<IntPtr*, DuckDbState>)Export(library, path, "duckdb_create_config");
        SetConfig = (delegate* unmanaged<IntPtr, byte*, byte*, DuckDbState>)Export(library, path, "duckdb_set_config");
        DestroyConfig = (delegate* unmanaged<IntPtr*, void>)Export(library, path, "duckdb_destroy_config");
        Free = (delegate* unmanaged<void*, void>)Export(library, path, "duckdb_free");
        VectorSize = (delegate* unmanaged<ulong>)Export(library, path, "duckdb_vector_size");

        Query = (delegate* unmanaged<IntPtr, byte*, DuckDbResultStruct*, DuckDbState>)Export(library, path, "duckdb_query");
        DestroyResult = (delegate* unmanaged<DuckDbResultStruct*, void>)Export(library, path, "duckdb_destroy_result");
        ResultError = (delegate* unmanaged<DuckDbResultStruct*, byte*>)Export(library, path, "duckdb_result_error");
        ColumnCount = (delegate* unmanaged<DuckDbResultStruct*, ulong>)Export(library, path, "duckdb_column_count");
        ColumnName = (delegate* unmanaged<DuckDbResultStruct*, ulong, byte*>)Export(library, path, "duckdb_column_name");
        ColumnLogicalType = (delegate* unmanaged<DuckDbResultStruct*, ulong, IntPtr>)Export(library, path, "duckdb_column_logical_type");
        FetchChunk = (delegate* unmanaged<DuckDbResultStruct, IntPtr>)Export(library, path, "duckdb_fetch_chunk");

        Prepare = (delegate* unmanaged<IntPtr, byte*, IntPtr*, DuckDbState>)Export(library, path, "duckdb_prepare");
        DestroyPrepare = (delegate* unmanaged<IntPtr*, void>)Export(library, path, "duckdb_destroy_prepare");
        PrepareError = (delegate* unmanaged<IntPtr, byte*>)Export(library, path, "duckdb_prepare_error");
        PendingPreparedStreaming = (delegate* unmanaged<IntPtr, IntPtr*, DuckDbState>)Export(library, path, "duckdb_pending_prepared_streaming");
        DestroyPending = (delegate* unmanaged<IntPtr*, void>)Export(library, path, "duckdb_destroy_pending");
        PendingError = (delegate* unmanaged<IntPtr, byte*>)Export(library, path, "duckdb_pending_error");
        ExecutePending = (delegate* unmanaged<IntPtr, DuckDbResultStruct*, DuckDbState>)Export(library, path, "duckdb_execute_pending");

        CreateDataChunk = (delegate* unmanaged<IntPtr*, ulong, IntPtr>)Export(library, path, "duckdb_create_data_chunk");
        DestroyDataChunk = (delegate* unmanaged<IntPtr*, void>)Export(library, path, "duckdb_destroy_data_chunk");
        DataChunkGetSize = (delegate* unmanaged<IntPtr, ulong>)Export(library, path, "duckdb_data_chunk_get_size");
        DataChunkSetSize = (delegate* unmanaged<IntPtr, ulong, void>)Export(library, path, "duckdb_data_chunk_set_size");
        DataChunkGetColumnCount = (delegate* unmanaged<IntPtr, ulong>)Export(library, path, "duckdb_data_chunk_get_column_count");
        DataChunkGetVector = (delegate* unmanaged<IntPtr, ulong, IntPtr>)Export(library, path, "duckdb_data_chunk_get_vector");

        VectorGetData = (delegate* unmanaged<IntPtr, void*>)Export(library, path, "duckdb_vector_get_data");
        VectorGetValidity = (delegate* unmanaged<IntPtr, ulong*>)Export(library, path, "duckdb_vector_get_validity");
        VectorEnsureValidityWritable = (delegate* unmanaged<IntPtr, void>)Export(library, path, "duckdb_vector_ensure_validity_writable");
        VectorAssignStringElementLength = (delegate* unmanaged<IntPtr, ulong, byte*, ulong, void>)Export(library, path, "duckdb_vector_assign_string_element_len");
        ListVectorGetChild = (delegate* unmanaged<IntPtr, IntPtr>)Export(library, path, "duckdb_list_vector_get_child");
        ListVectorGetSize = (delegate* unmanaged<IntPtr, ulong>)Export(library, path, "duckdb_list_vector_get_size");
        ListVectorSetSize = (delegate* unmanaged<IntPtr, ulong, DuckDbState>)Export(library, path, "duckdb_list_vector_set_size");
        ListVectorReserve = (delegate* unmanaged<IntPtr, ulong, DuckDbState>)Export(library, path, "duckdb_list_vector_reserve");
        StructVectorGetChild = (delegate* unmanaged<IntPtr, ulong, IntPtr>)Export(library, path, "duckdb_struct_vector_get_child");
        ArrayVectorGetChild = (delegate* unmanaged<IntPtr, IntPtr>)Export(library, path, "duckdb_array_vector_get_child");

        CreateLogicalType = (delegate* unmanaged<DuckDbType, IntPtr>)Export(library, path, "duckdb_create_logical_type");
        CreateListType = (delegate* unmanaged<IntPtr, IntPtr>)Export(library, path, "duckdb_create_list_type");
        CreateStructType = (delegate* unmanaged<IntPtr*, byte**, ulong, IntPtr>)Export(library, path, "duckdb_create_struct_type");
        DestroyLogicalType = (delegate* unmanaged<IntPtr*, void>)Export(library, path, "duckdb_destroy_logical_type");
        GetTypeId = (delegate* unmanaged<IntPtr, DuckDbType>)Export(library, path, "duckdb_get_type_id");
        LogicalTypeGetAlias = (delegate* unmanaged<IntPtr, byte*>)Export(library, path, "duckdb_logical_type_get_alias");
        ListTypeChildType = (delegate* unmanaged<IntPtr, IntPtr>)Export(library, path, "duckdb_list_type_child_type");
        ArrayTypeChildType = (delegate* unmanaged<IntPtr, IntPtr>)Export(library, path, "duckdb_array_type_child_type");
        ArrayTypeArraySize = (delegate* unmanaged<IntPtr, ulong>)Export(library, path, "duckdb_array_type_array_size");
        StructTypeChildCount = (delegate* unmanaged<IntPtr, ulong>)Export(library, path, "duckdb_struct_type_child_count");
        StructTypeChildName = (delegate* unmanaged<IntPtr, ulong, byte*>)Export(library, path, "duckdb_struct_type_child_name");
        StructTypeChildType = (delegate* unmanaged<IntPtr, ulong, IntPtr>)Export(library, path, "duckdb_struct_type_child_type");

        AppenderCreate = (delegate* unmanaged<IntPtr, byte*, byte*, IntPtr*, DuckDbState>)Export(library, path, "duckdb_appender_create");
        AppenderError = (delegate* unmanaged<IntPtr, byte*>)Export(library, path, "duckdb_appender_error");
        AppenderFlush = (delegate* unmanaged<IntPtr, DuckDbState>)Export(library, path, "duckdb_appender_flush");
        AppenderClose = (delegate* unmanaged<IntPtr, DuckDbState>)Export(library, path, "duckdb_appender_close");
        AppenderDestroy = (delegate* unmanaged<IntPtr*, DuckDbState>)Export(library, path, "duckdb_appender_destroy");
        AppenderColumnCount = (delegate* unmanaged<IntPtr, ulong>)Export(library, path, "duckdb_appender_column_count");
        AppenderColumnType = (delegate* unmanaged<IntPtr, ulong, IntPtr>)Export(library, path, "duckdb_appender_column_type");
        AppendDataChunk = (delegate* unmanaged<IntPtr, IntPtr, DuckDbState>)Export(library, path, "duckdb_append_data_chunk");
    }

    /// <summary>The loaded library; throws a <see cref="DuckDbException"/> that says how to install it when missing.</summary>
    public static DuckDbLibrary Instance => Loaded.Value;

    public string Path { get; }

    public string Version => DuckDbText.FromNative(LibraryVersion()) ?? "unknown";

    public readonly delegate* unmanaged<byte*, IntPtr*, IntPtr, byte**, DuckDbState> OpenExt;
    public readonly delegate* unmanaged<IntPtr*, void> Close;
    public readonly delegate* unmanaged<IntPtr, IntPtr*, DuckDbState> Connect;
    public readonly delegate* unmanaged<IntPtr*, void> Disconnect;
    public readonly delegate* unmanaged<IntPtr, void> Interrupt;
    public readonly delegate* unmanaged<byte*> LibraryVersion;
    public readonly delegate* unmanaged<IntPtr*, DuckDbState> CreateConfig;
    public readonly delegate* unmanaged<IntPtr, byte*, byte*, DuckDbState> SetConfig;
    public readonly delegate* unmanaged<IntPtr*, void> DestroyConfig;
    public readonly delegate* unmanaged<void*, void> Free;
    public readonly delegate* unmanaged<ulong> VectorSize;

    public readonly delegate* unmanaged<IntPtr, byte*, DuckDbResultStruct*, DuckDbState> Query;
    public readonly delegate* unmanaged<DuckDbResultStruct*, void> DestroyResult;
    public readonly delegate* unmanaged<DuckDbResultStruct*, byte*> ResultError;
    public readonly delegate* unmanaged<DuckDbResultStruct*, ulong> ColumnCount;
    public readonly delegate* unmanaged<DuckDbResultStruct*, ulong, byte*> ColumnName;
    public readonly delegate* unmanaged<DuckDbResultStruct*, ulong, IntPtr> ColumnLogicalType;
    public readonly delegate* unmanaged<DuckDbResultStruct, IntPtr> FetchChunk;

    public readonly delegate* unmanaged<IntPtr, byte*, IntPtr*, DuckDbState> Prepare;
    public readonly delegate* unmanaged<IntPtr*, void> DestroyPrepare;
    public readonly delegate* unmanaged<IntPtr, byte*> PrepareError;
    public readonly delegate* unmanaged<IntPtr, IntPtr*, DuckDbState> PendingPreparedStreaming;
    public readonly delegate* unmanaged<IntPtr*, void> DestroyPending;
    public readonly delegate* unmanaged<IntPtr, byte*> PendingError;
    public readonly delegate* unmanaged<IntPtr, DuckDbResultStruct*, DuckDbState> ExecutePending;

    public readonly delegate* unmanaged<IntPtr*, ulong, IntPtr> CreateDataChunk;
    public readonly delegate* unmanaged<IntPtr*, void> DestroyDataChunk;
    public readonly delegate* unmanaged<IntPtr, ulong> DataChunkGetSize;
    public readonly delegate* unmanaged<IntPtr, ulong, void> DataChunkSetSize;
    public readonly delegate* unmanaged<IntPtr, ulong> DataChunkGetColumnCount;
    public readonly delegate* unmanaged<IntPtr, ulong, IntPtr> DataChunkGetVector;

    public readonly delegate* unmanaged<IntPtr, void*> VectorGetData;
    public readonly delegate* unmanaged<IntPtr, ulong*> VectorGetValidity;
    public readonly delegate* unmanaged<IntPtr, void> VectorEnsureValidityWritable;
    public readonly delegate* unmanaged<IntPtr, ulong, byte*, ulong, void> VectorAssignStringElementLength;
    public readonly delegate* unmanaged<IntPtr, IntPtr> ListVectorGetChild;
    public readonly delegate* unmanaged<IntPtr, ulong> ListVectorGetSize;
    public readonly delegate* unmanaged<IntPtr, ulong, DuckDbState> ListVectorSetSize;
    public readonly delegate* unmanaged<IntPtr, ulong, DuckDbState> ListVectorReserve;
    public readonly delegate* unmanaged<IntPtr, ulong, IntPtr> StructVectorGetChild;
    public readonly delegate* unmanaged<IntPtr, IntPtr> ArrayVectorGetChild;

    public readonly delegate* unmanaged<DuckDbType, IntPtr> CreateLogicalType;
    public readonly delegate* unmanaged<IntPtr, IntPtr> CreateListType;
    public readonly delegate* unmanaged<IntPtr*, byte**, ulong, IntPtr> CreateStructType;
    public readonly delegate* unmanaged<IntPtr*, void> DestroyLogicalType;
    public readonly delegate* unmanaged<IntPtr, DuckDbType> GetTypeId;
    public readonly delegate* unmanaged<IntPtr, byte*> LogicalTypeGetAlias;
    public readonly delegate* unmanaged<IntPtr, IntPtr> ListTypeChildType;
    public readonly delegate* unmanaged<IntPtr, IntPtr> ArrayTypeChildType;
    public readonly delegate* unmanaged<IntPtr, ulong> ArrayTypeArraySize;
    public readonly delegate* unmanaged<IntPtr, ulong> StructTypeChildCount;
    public readonly delegate* unmanaged<IntPtr, ulong, byte*> StructTypeChildName;
    public readonly delegate* unmanaged<IntPtr, ulong, IntPtr> StructTypeChildType;

    public readonly delegate* unmanaged<IntPtr, byte*, byte*, IntPtr*, DuckDbState> AppenderCreate;
    public readonly delegate* unmanaged<IntPtr, byte*> AppenderError;
    public readonly delegate* unmanaged<IntPtr, DuckDbState> AppenderFlush;
    public readonly delegate* unmanaged<IntPtr, DuckDbState> AppenderClose;
    public readonly delegate* unmanaged<IntPtr*, DuckDbState> AppenderDestroy;
    public readonly delegate* unmanaged<IntPtr, ulong> AppenderColumnCount;
    public readonly delegate* unmanaged<IntPtr, ulong, IntPtr> AppenderColumnType;
    public readonly delegate* unmanaged<IntPtr, IntPtr, DuckDbState> AppendDataChunk;

    private static DuckDbLibrary Load()
    {
        string? path;
        try
        {
            path = NativeLibraryLocator.Find(EnvironmentVariable, "duckdb", "libduckdb.so");
        }
        catch (FileNotFoundException error)
        {
            throw new DuckDbException($"{error.Message} {NativeLibraryLocator.HowToInstall(EnvironmentVariable)}", error);
        }
        if (path is null)
        {
            throw new DuckDbException(
                $"DuckDB (libduckdb.so) was not found; it is needed to read and write Parquet. {NativeLibraryLocator.HowToInstall(EnvironmentVariable)}");
        }
        IntPtr library;
        try
        {
            library = NativeLibrary.Load(path);
        }
        catch (Exception error) when (error is DllNotFoundException or BadImageFormatException)
        {
            throw new DuckDbException($"{path} could not be loaded as DuckDB's C library: {error.Message}", error);
        }
        return new DuckDbLibrary(library, path);
    }

    private static IntPtr Export(IntPtr library, string path, string name) =>
        NativeLibrary.TryGetExport(library, name, out var address)
            ? address
            : throw new DuckDbException($"{path} has no export '{name}'; Riverbed needs DuckDB 1.5 or newer. {NativeLibraryLocator.HowToInstall(EnvironmentVariable)}");
}
