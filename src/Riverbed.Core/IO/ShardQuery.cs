using System.Globalization;
using System.Text;
using DuckDB.NET.Native;
using Riverbed.IO.DuckDb;

namespace Riverbed.IO;

/// <summary>
/// Read-only SQL over shards through DuckDB, for tools that summarize a run without reading every row (the report
/// samples and counts with it). Results come back as <see cref="ColumnValue"/>s, the values extra columns are written
/// with, so what a writer stored reads back as it was declared. Build SQL only with <see cref="Literal"/>,
/// <see cref="Identifier"/> and the scan helpers: nothing a user typed may reach the SQL text unquoted.
/// </summary>
public sealed class ShardQuery : IDisposable
{
    /// <summary>The column the scan helpers add with each row's file path (the <c>__rb_</c> prefix is reserved, so no dataset column clashes).</summary>
    public const string FileColumn = "__rb_file";

    private readonly DuckDbDatabase _database;
    private readonly DuckDbConnection _connection;
    private readonly string _spillFolder;

    private ShardQuery(DuckDbDatabase database, DuckDbConnection connection, string spillFolder)
    {
        _database = database;
        _connection = connection;
        _spillFolder = spillFolder;
    }

    /// <summary>
    /// Opens a private in-memory DuckDB. Past <paramref name="memoryLimit"/> it spills to a fresh folder under the system
    /// temp folder (never the working directory), removed on <see cref="Dispose"/>. Extensions are never downloaded.
    /// </summary>
    public static ShardQuery Open(int threads = 1, string memoryLimit = "1GB")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var spillFolder = Path.Combine(Path.GetTempPath(), $"riverbed-query-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var database = DuckDbDatabase.OpenInMemory(
        [
            new("threads", threads.ToString(CultureInfo.InvariantCulture)),
            new("memory_limit", memoryLimit),
            new("temp_directory", spillFolder),
            new("autoinstall_known_extensions", "false"),
            new("autoload_known_extensions", "false"),
        ]);
        try
        {
            return new ShardQuery(database, database.Connect(), spillFolder);
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>A SQL string literal.</summary>
    public static string Literal(string value) => DuckDbSql.Literal(value);

    /// <summary>A SQL identifier (quoted, so any column name works).</summary>
    public static string Identifier(string name) => DuckDbSql.Identifier(name);

    /// <summary>
    /// A table expression over Parquet files (columns matched by name, so shards whose original columns differ still
    /// scan together), with each row's file in <see cref="FileColumn"/>.
    /// </summary>
    public static string ParquetScan(IEnumerable<string> paths) =>
        $"read_parquet({PathList(paths)}, union_by_name = true, hive_partitioning = false, filename = {Literal(FileColumn)})";

    /// <summary>
    /// A table expression over JSON Lines files that reads only <paramref name="columns"/>, with their declared types
    /// (a key missing from a record reads as null; other keys are ignored), and each row's file in <see cref="FileColumn"/>.
    /// Records up to <paramref name="maxRecordBytes"/> long are read; DuckDB sets aside twice that per scanning thread,
    /// so callers size it from the files (a record is never longer than its file) rather than ask for the most.
    /// </summary>
    public static string JsonLinesScan(IEnumerable<string> paths, IEnumerable<ColumnDefinition> columns, long maxRecordBytes = 16L << 20)
    {
        var declared = string.Join(", ", columns.Select(column => Literal(column.Name) + ": " + Literal(column.Type.ToSql())));
        if (declared.Length == 0)
        {
            throw new ArgumentException("a JSON Lines scan needs at least one column", nameof(columns));
        }
        return $"read_json({PathList(paths)}, format = 'newline_delimited', columns = {{{declared}}}, " +
            $"maximum_object_size = {maxRecordBytes.ToString(CultureInfo.InvariantCulture)}, hive_partitioning = false, filename = {Literal(FileColumn)})";
    }

    /// <summary>Runs a query and streams its result chunk by chunk. DuckDB's errors throw <see cref="DuckDbException"/>.</summary>
    public ShardQueryResult Run(string sql) => new(_connection.Stream(sql));

    public void Dispose()
    {
        _connection.Dispose();
        _database.Dispose();
        try
        {
            if (Directory.Exists(_spillFolder))
            {
                Directory.Delete(_spillFolder, recursive: true);
            }
        }
        catch (IOException)
        {
            // A spill file still held by a dying DuckDB thread: a stray temp folder is harmless.
        }
    }

    private static string PathList(IEnumerable<string> paths)
    {
        var list = new StringBuilder("[");
        foreach (var path in paths)
        {
            if (path.AsSpan().IndexOfAny("*?[") >= 0)
            {
                throw new DuckDbException($"{path}: file names containing '*', '?' or '[' cannot be queried (DuckDB would treat them as a glob); rename the file");
            }
            list.Append(list.Length == 1 ? string.Empty : ", ").Append(Literal(path));
        }
        if (list.Length == 1)
        {
            throw new ArgumentException("a scan needs at least one file", nameof(paths));
        }
        return list.Append(']').ToString();
    }
}

/// <summary>A column of a query result: any name DuckDB gives it (unlike output columns, nothing is reserved) and its type.</summary>
public sealed record QueryColumn(string Name, ColumnType Type);

/// <summary>
/// A query's result, read row by row. DuckDB types map onto <see cref="ColumnType"/>s: BOOLEAN, integers up to 32 bits
/// (INTEGER), wider ones (BIGINT), FLOAT/DOUBLE, VARCHAR (checked to be valid UTF-8), lists, arrays and structs of
/// these. Other types (dates, decimals, maps, blobs) are refused: cast them in the query.
/// </summary>
public sealed unsafe class ShardQueryResult : IDisposable
{
    private readonly DuckDbQuery _query;
    private readonly DuckDbTypeInfo[] _types;

    internal ShardQueryResult(DuckDbQuery query)
    {
        _query = query;
        try
        {
            _types = query.Columns.Select(column => column.Type).ToArray();
            Columns = query.Columns.Select(column => new QueryColumn(column.Name, Map(column.Type, column.Name))).ToArray();
        }
        catch
        {
            query.Dispose();
            throw;
        }
    }

    public IReadOnlyList<QueryColumn> Columns { get; }

    /// <summary>Every row, in the query's order; each call continues where the last one stopped.</summary>
    public IEnumerable<ColumnValue[]> Rows(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var chunk = _query.FetchChunk();
            if (chunk is null)
            {
                yield break;
            }
            var readers = new ValueReader[_types.Length];
            for (var i = 0; i < readers.Length; i++)
            {
                readers[i] = ValueReader.Build(chunk.GetVector(i), _types[i], Columns[i].Name);
            }
            var rows = new ColumnValue[chunk.RowCount][];
            for (var row = 0; row < rows.Length; row++)
            {
                var values = new ColumnValue[readers.Length];
                for (var i = 0; i < readers.Length; i++)
                {
                    values[i] = readers[i].Read((ulong)row);
                }
                rows[row] = values;
            }
            // Values are copied out before the chunk is released, so callers may keep them.
            foreach (var values in rows)
            {
                yield return values;
            }
        }
    }

    public void Dispose() => _query.Dispose();

    private static ColumnType Map(DuckDbTypeInfo type, string path) => type.Id switch
    {
        DuckDBType.Boolean => ColumnType.Boolean,
        DuckDBType.TinyInt or DuckDBType.SmallInt or DuckDBType.Integer or DuckDBType.UnsignedTinyInt or DuckDBType.UnsignedSmallInt => ColumnType.Int32,
        DuckDBType.BigInt or DuckDBType.UnsignedInteger or DuckDBType.UnsignedBigInt => ColumnType.Int64,
        DuckDBType.Float or DuckDBType.Double => ColumnType.Double,
        DuckDBType.Varchar => ColumnType.String,
        DuckDBType.List or DuckDBType.Array => ColumnType.ListOf(Map(type.Element!, path + "[]")),
        DuckDBType.Struct => MapStruct(type, path),
        _ => throw new DuckDbException($"query result column '{path}' has type {type}, which Riverbed does not read; cast it in the query (e.g. ::VARCHAR)"),
    };

    private static ColumnType MapStruct(DuckDbTypeInfo type, string path)
    {
        try
        {
            return ColumnType.StructOf(type.Fields.Select(field => new StructField(field.Name, Map(field.Type, path + "." + field.Name))).ToArray());
        }
        catch (ArgumentException error)
        {
            throw new DuckDbException($"query result column '{path}' has a struct Riverbed cannot represent ({error.Message}); rename its fields in the query");
        }
    }

    /// <summary>A vector and its children with data pointers fetched once per chunk.</summary>
    private sealed class ValueReader
    {
        private DuckDbTypeInfo _type = null!;
        private string _path = string.Empty;
        private void* _data;
        private ulong* _validity;
        private ValueReader? _element;
        private ValueReader[] _fields = [];

        public static ValueReader Build(DuckDbVector vector, DuckDbTypeInfo type, string path)
        {
            var reader = new ValueReader { _type = type, _path = path, _data = vector.Data, _validity = vector.Validity };
            switch (type.Id)
            {
                case DuckDBType.List:
                    reader._element = Build(vector.ListChild, type.Element!, path + "[]");
                    break;
                case DuckDBType.Array:
                    reader._element = Build(vector.ArrayChild, type.Element!, path + "[]");
                    break;
                case DuckDBType.Struct:
                    reader._fields = new ValueReader[type.Fields.Count];
                    for (var i = 0; i < type.Fields.Count; i++)
                    {
                        reader._fields[i] = Build(vector.StructChild(i), type.Fields[i].Type, path + "." + type.Fields[i].Name);
                    }
                    break;
            }
            return reader;
        }

        public ColumnValue Read(ulong row)
        {
            if (!DuckDbVector.IsValid(_validity, row))
            {
                return ColumnValue.Null;
            }
            switch (_type.Id)
            {
                case DuckDBType.Boolean:
                    return ColumnValue.From(((byte*)_data)[row] != 0);
                case DuckDBType.TinyInt:
                    return ColumnValue.From((int)((sbyte*)_data)[row]);
                case DuckDBType.SmallInt:
                    return ColumnValue.From((int)((short*)_data)[row]);
                case DuckDBType.Integer:
                    return ColumnValue.From(((int*)_data)[row]);
                case DuckDBType.UnsignedTinyInt:
                    return ColumnValue.From((int)((byte*)_data)[row]);
                case DuckDBType.UnsignedSmallInt:
                    return ColumnValue.From((int)((ushort*)_data)[row]);
                case DuckDBType.BigInt:
                    return ColumnValue.From(((long*)_data)[row]);
                case DuckDBType.UnsignedInteger:
                    return ColumnValue.From((long)((uint*)_data)[row]);
                case DuckDBType.UnsignedBigInt:
                    var unsigned = ((ulong*)_data)[row];
                    return unsigned <= long.MaxValue
                        ? ColumnValue.From((long)unsigned)
                        : throw new DuckDbException($"query result column '{_path}' holds {unsigned}, beyond the range of a 64-bit signed integer");
                case DuckDBType.Float:
                    return ColumnValue.From((double)((float*)_data)[row]);
                case DuckDBType.Double:
                    return ColumnValue.From(((double*)_data)[row]);
                case DuckDBType.Varchar:
                    var bytes = DuckDbVector.StringBytes(_data, row);
                    if (!System.Text.Unicode.Utf8.IsValid(bytes))
                    {
                        throw new DuckDbException($"query result column '{_path}' holds invalid UTF-8 text");
                    }
                    return ColumnValue.From(Encoding.UTF8.GetString(bytes));
                case DuckDBType.List:
                    var entry = ((DuckDBListEntry*)_data)[row];
                    return ReadItems(entry.Offset, entry.Length);
                case DuckDBType.Array:
                    var size = (ulong)_type.ArraySize;
                    return ReadItems(row * size, size);
                default:
                    var values = new ColumnValue[_fields.Length];
                    for (var i = 0; i < values.Length; i++)
                    {
                        values[i] = _fields[i].Read(row);
                    }
                    return ColumnValue.Struct(values);
            }
        }

        private ColumnValue ReadItems(ulong offset, ulong length)
        {
            var items = new ColumnValue[checked((int)length)];
            for (var i = 0; i < items.Length; i++)
            {
                items[i] = _element!.Read(offset + (ulong)i);
            }
            return ColumnValue.List(items);
        }
    }
}
