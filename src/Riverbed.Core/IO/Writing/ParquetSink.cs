using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Native;
using Riverbed.IO.DuckDb;

namespace Riverbed.IO.Writing;

/// <summary>
/// Parquet output through DuckDB. Rows are staged in a DuckDB table (Riverbed's columns, typed exactly as declared,
/// appended chunk by chunk; DuckDB spills to disk past its memory limit). At commit the original columns are joined
/// back by row number and one COPY … TO (FORMAT parquet, COMPRESSION zstd) per route writes the files:
/// <list type="bullet">
/// <item>Parquet inputs: the original columns are re-read from the input file itself, so every type (nested lists and
///   structs, dates, decimals) is kept exactly;</item>
/// <item>JSON inputs: each record's bytes go to a temporary file beside the output while a column type is inferred for
///   every top-level key (<see cref="JsonShape"/>); at commit the records are parsed once more into typed columns.</item>
/// </list>
/// An original column named like a Riverbed column (case-insensitively) is replaced by Riverbed's.
/// </summary>
internal sealed class ParquetSink : IRowSink
{
    private const string RowColumn = "__rb_row";
    private const string RouteColumn = "__rb_route";
    private const string SpillPrefix = ".riverbed-spill-";

    private readonly ShardLayout _layout;
    private readonly ShardInput _input;
    private readonly IReadOnlyList<ColumnDefinition> _columns;
    private readonly string _spillFolder;
    private readonly DuckDbDatabase _database;
    private readonly DuckDbConnection _connection;
    private readonly DuckDbAppender _appender;
    private readonly IReadOnlyList<DuckDBLogicalType> _types;
    private readonly DuckDbChunkBuilder _chunk;
    private readonly List<string> _temporaries = [];
    private readonly JsonShape? _shape;
    private readonly string? _recordsPath;
    private readonly BinaryWriter? _records;
    private Reading.ParquetTextAsBytes? _textAsBytes;

    public ParquetSink(ShardLayout layout, ShardInput input, ShardWriterOptions options)
    {
        _layout = layout;
        _input = input;
        _columns = options.AllColumns;
        RemoveAbandonedSpillFolders(layout.Root);
        _spillFolder = Path.Combine(layout.Root, $"{SpillPrefix}{Environment.ProcessId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}");
        _database = DuckDbDatabase.OpenInMemory(
        [
            new("threads", options.DuckDbThreads.ToString(CultureInfo.InvariantCulture)),
            new("memory_limit", options.DuckDbMemoryLimit),
            new("temp_directory", _spillFolder),
            new("preserve_insertion_order", "true"),
            new("autoinstall_known_extensions", "false"),
            new("autoload_known_extensions", "false"),
        ]);
        try
        {
            _connection = _database.Connect();
            var columns = string.Join(", ", _columns.Select(column => $"{DuckDbSql.Identifier(column.Name)} {column.Type.ToSql()}"));
            _connection.Execute($"CREATE TABLE x ({DuckDbSql.Identifier(RowColumn)} BIGINT, {DuckDbSql.Identifier(RouteColumn)} VARCHAR, {columns})");
            _appender = _connection.CreateAppender("x");
            _types = _appender.ColumnTypes();
            _chunk = new DuckDbChunkBuilder(_types);
            if (input.Format != InputFormat.Parquet)
            {
                _shape = new JsonShape();
                var final = layout.Full(layout.RelativeManifestPath);
                layout.CreateFolderFor(final);
                _recordsPath = ShardLayout.TemporaryPath(final);
                _temporaries.Add(_recordsPath);
                _records = new BinaryWriter(new FileStream(_recordsPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public IEnumerable<string> TemporaryPaths => _temporaries;

    public void Write(Example example, ReadOnlySpan<ColumnValue> extras, string route)
    {
        var row = _chunk.NextRow();
        DuckDbVectorWriter.Set(_chunk.Vector(0), row, example.Row);
        VectorWriter.WriteString(_chunk.Vector(1), row, route);
        VectorWriter.WriteString(_chunk.Vector(2), row, example.Id);
        VectorWriter.WriteString(_chunk.Vector(3), row, example.Source);
        DuckDbVectorWriter.Set(_chunk.Vector(4), row, example.Row);
        for (var i = 0; i < extras.Length; i++)
        {
            VectorWriter.Write(_chunk.Vector(5 + i), row, _columns[3 + i].Type, extras[i]);
        }
        if (_chunk.IsFull)
        {
            _appender.Append(_chunk);
            _chunk.Reset();
        }
        if (_records is not null)
        {
            var record = example.Record.Span;
            _records.Write(example.Row);
            _records.Write(record.Length);
            _records.Write(record);
            if (example.Shape is { } shape)
            {
                _shape!.Merge(shape);
            }
            else
            {
                // An example made without its shape (a library caller that built it by hand) is parsed here instead.
                using var document = JsonDocument.Parse(example.Record, ReaderLimits.ValidatedRecord);
                _shape!.Observe(document.RootElement);
            }
        }
    }

    public IReadOnlyList<StagedOutput> Stage(IReadOnlyList<string> routes, CancellationToken cancellationToken)
    {
        using var interrupt = cancellationToken.Register(_connection.Interrupt);
        if (_chunk.RowCount > 0)
        {
            _appender.Append(_chunk);
            _chunk.Reset();
        }
        _appender.Flush();
        var routeCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        using (var counts = _connection.Stream($"SELECT {DuckDbSql.Identifier(RouteColumn)}, count(*) FROM x GROUP BY ALL"))
        {
            while (counts.FetchChunk() is { } chunk)
            {
                using (chunk)
                {
                    for (var i = 0; i < chunk.RowCount; i++)
                    {
                        routeCounts[(string)chunk.GetVector(0).GetScalar(counts.Columns[0].Type, (ulong)i)!] =
                            (long)chunk.GetVector(1).GetScalar(counts.Columns[1].Type, (ulong)i)!;
                    }
                }
            }
        }
        var originals = PrepareOriginals(cancellationToken);
        var riverbed = string.Join(", ", _columns.Select(column => "x." + DuckDbSql.Identifier(column.Name)));
        var select = originals.Count == 0
            ? $"SELECT {riverbed} FROM x"
            : $"SELECT {string.Join(", ", originals.Select(name => "o." + DuckDbSql.Identifier(name)))}, {riverbed} FROM x JOIN o ON o.{DuckDbSql.Identifier(RowColumn)} = x.{DuckDbSql.Identifier(RowColumn)}";
        var staged = new List<StagedOutput>();
        foreach (var route in routes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var final = _layout.Full(_layout.RelativeDataPath(route));
            _layout.CreateFolderFor(final);
            var temporary = ShardLayout.TemporaryPath(final);
            _temporaries.Add(temporary);
            var expected = routeCounts.GetValueOrDefault(route);
            string Copy() =>
                $"COPY ({select} WHERE x.{DuckDbSql.Identifier(RouteColumn)} = {DuckDbSql.Literal(route)} ORDER BY x.{DuckDbSql.Identifier(RowColumn)}) " +
                $"TO {DuckDbSql.Literal(temporary)} (FORMAT parquet, COMPRESSION zstd)";
            object? written;
            try
            {
                written = _connection.Execute(Copy());
            }
            catch (DuckDbException error) when (originals.Count > 0 && _textAsBytes is null && Reading.ParquetSource.IsInvalidText(error))
            {
                // The input holds text that is not UTF-8 (the reader rejected those rows, read again with the text as
                // bytes): join the originals from that kind of copy too, and decode the text columns back to VARCHAR
                // after the join, where only the rows kept are left.
                select = SelectDecodingText(originals, riverbed);
                written = _connection.Execute(Copy());
            }
            if (written is not long count || count != expected)
            {
                throw new ShardWriteException($"{_layout.RelativeDataPath(route)}: DuckDB wrote {written ?? "no"} rows, expected {expected}");
            }
            staged.Add(new StagedOutput(route, temporary, expected));
        }
        return staged;
    }

    /// <summary>
    /// Points the view <c>o</c> at an in-memory copy of the Parquet input whose text columns are BINARY
    /// (<see cref="Reading.ParquetTextAsBytes"/>) and returns the join that decodes each such column back to its declared
    /// VARCHAR (nested ones field by field and element by element).
    /// </summary>
    private string SelectDecodingText(List<string> originals, string riverbed)
    {
        var wanted = new HashSet<string>(originals, StringComparer.Ordinal);
        Dictionary<string, DuckDbTypeInfo> Types(string path)
        {
            using var probe = _connection.Stream($"SELECT * FROM read_parquet({DuckDbSql.Literal(path)}, hive_partitioning = false) LIMIT 0");
            return probe.Columns.Where(column => wanted.Contains(column.Name)).ToDictionary(column => column.Name, column => column.Type, StringComparer.Ordinal);
        }
        var declared = Types(_input.Path);
        _textAsBytes = Reading.ParquetTextAsBytes.Create(_input.Path, wanted);
        var actual = Types(_textAsBytes.Path);
        var source = $"read_parquet({DuckDbSql.Literal(_textAsBytes.Path)}, file_row_number = true, hive_partitioning = false)";
        _connection.Execute($"CREATE OR REPLACE VIEW o AS SELECT * EXCLUDE (file_row_number), file_row_number AS {DuckDbSql.Identifier(RowColumn)} FROM {source}");
        var columns = originals.Select(name =>
            $"{Decode("o." + DuckDbSql.Identifier(name), declared[name], actual[name], 0)} AS {DuckDbSql.Identifier(name)}");
        return $"SELECT {string.Join(", ", columns)}, {riverbed} FROM x JOIN o ON o.{DuckDbSql.Identifier(RowColumn)} = x.{DuckDbSql.Identifier(RowColumn)}";
    }

    /// <summary>SQL turning <paramref name="expression"/> (of type <paramref name="actual"/>) back into <paramref name="declared"/>.</summary>
    private static string Decode(string expression, DuckDbTypeInfo declared, DuckDbTypeInfo actual, int depth)
    {
        if (declared.Id == DuckDBType.Varchar && actual.Id == DuckDBType.Blob)
        {
            return $"decode({expression})";
        }
        if (declared.Id == DuckDBType.List && actual.Id == DuckDBType.List)
        {
            var element = $"e{depth}";
            var inner = Decode(element, declared.Element!, actual.Element!, depth + 1);
            return inner == element ? expression : $"list_transform({expression}, lambda {element}: {inner})";
        }
        if (declared.Id == DuckDBType.Struct && actual.Id == DuckDBType.Struct && declared.Fields.Count == actual.Fields.Count)
        {
            var fields = declared.Fields.Select((field, i) =>
                (field.Name, Sql: Decode($"struct_extract({expression}, {DuckDbSql.Literal(field.Name)})", field.Type, actual.Fields[i].Type, depth + 1))).ToList();
            if (fields.All(field => field.Sql == $"struct_extract({expression}, {DuckDbSql.Literal(field.Name)})"))
            {
                return expression;
            }
            return $"CASE WHEN {expression} IS NULL THEN NULL ELSE struct_pack({string.Join(", ", fields.Select(field => $"{DuckDbSql.Identifier(field.Name)} := {field.Sql}"))}) END";
        }
        return expression;
    }

    /// <summary>Makes the originals available as <c>o</c> and returns the original column names to write.</summary>
    private List<string> PrepareOriginals(CancellationToken cancellationToken)
    {
        var reserved = new HashSet<string>(_columns.Select(column => column.Name).Append(RowColumn).Append(RouteColumn), StringComparer.OrdinalIgnoreCase);
        if (_input.Format == InputFormat.Parquet)
        {
            var info = new FileInfo(_input.ResolvedPath);
            if (!info.Exists || info.Length != _input.Size || info.LastWriteTimeUtc != _input.LastWriteUtc)
            {
                throw new ShardWriteException($"{_input.DisplayPath} changed while it was being converted; run again");
            }
            var source = $"read_parquet({DuckDbSql.Literal(_input.Path)}, file_row_number = true, hive_partitioning = false)";
            List<string> names;
            using (var probe = _connection.Stream($"SELECT * FROM read_parquet({DuckDbSql.Literal(_input.Path)}, hive_partitioning = false) LIMIT 0"))
            {
                names = probe.Columns.Select(column => column.Name).ToList();
            }
            RefuseInternalNames(names.Append("file_row_number"));
            // A work unit joins only its own rows (DuckDB then skips the file's other row groups).
            var rows = _input.Unit is { Kind: UnitKind.RowGroups } unit
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $" WHERE file_row_number >= {unit.Start} AND file_row_number < {unit.End}")
                : string.Empty;
            _connection.Execute($"CREATE VIEW o AS SELECT * EXCLUDE (file_row_number), file_row_number AS {DuckDbSql.Identifier(RowColumn)} FROM {source}{rows}");
            return names.Where(name => !reserved.Contains(name)).ToList();
        }

        _records!.Flush();
        var shape = _shape!;
        if (shape.Kind == ShapeKind.Struct)
        {
            RefuseInternalNames(shape.FieldOrder);
        }
        var fields = shape.Kind == ShapeKind.Struct ? shape.FieldOrder.Where(name => !reserved.Contains(name)).ToList() : [];
        if (JsonShape.HasCaseClash(fields))
        {
            var clash = fields.GroupBy(name => name, StringComparer.OrdinalIgnoreCase).First(group => group.Count() > 1);
            throw new ShardWriteException(
                $"{_input.DisplayPath}: fields {string.Join(" and ", clash.Select(name => $"'{name}'"))} differ only in case, which Parquet " +
                $"columns written by DuckDB cannot hold apart; use {SettingNames.Of(Setting.OutputFormat)} jsonl for this shard");
        }
        var definitions = string.Concat(fields.Select(name => $", {DuckDbSql.Identifier(name)} {shape.Field(name).ToSql()}"));
        _connection.Execute($"CREATE TABLE o ({DuckDbSql.Identifier(RowColumn)} BIGINT{definitions})");
        if (fields.Count == 0)
        {
            return fields;
        }
        using var appender = _connection.CreateAppender("o");
        var types = appender.ColumnTypes();
        try
        {
            using var chunk = new DuckDbChunkBuilder(types);
            var stream = _records.BaseStream;
            stream.Position = 0;
            using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            while (stream.Position < stream.Length)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var rowIndex = reader.ReadInt64();
                var bytes = reader.ReadBytes(reader.ReadInt32());
                using var document = JsonDocument.Parse(bytes, ReaderLimits.ValidatedRecord);
                var root = document.RootElement;
                var row = chunk.NextRow();
                DuckDbVectorWriter.Set(chunk.Vector(0), row, rowIndex);
                for (var i = 0; i < fields.Count; i++)
                {
                    var present = root.TryGetProperty(fields[i], out var value);
                    VectorWriter.Write(chunk.Vector(1 + i), row, shape.Field(fields[i]), value, present);
                }
                if (chunk.IsFull)
                {
                    appender.Append(chunk);
                    chunk.Reset();
                }
            }
            if (chunk.RowCount > 0)
            {
                appender.Append(chunk);
            }
            appender.Flush();
        }
        finally
        {
            foreach (var type in types)
            {
                type.Dispose();
            }
        }
        return fields;
    }

    /// <summary>Columns named like the staging columns cannot be told apart from them; refused rather than dropped.</summary>
    private void RefuseInternalNames(IEnumerable<string> names)
    {
        var clashes = names.GroupBy(name => name, StringComparer.OrdinalIgnoreCase)
            .Where(group => group.Key.StartsWith("__rb_", StringComparison.OrdinalIgnoreCase)
                || (group.Key.Equals("file_row_number", StringComparison.OrdinalIgnoreCase) && group.Count() > 1))
            .Select(group => group.First())
            .ToList();
        if (clashes.Count > 0)
        {
            throw new ShardWriteException(
                $"{_input.DisplayPath}: column(s) {string.Join(", ", clashes.Select(name => $"'{name}'"))} clash with names Riverbed uses " +
                $"while staging Parquet output; rename them or use {SettingNames.Of(Setting.OutputFormat)} jsonl");
        }
    }

    /// <summary>Spill folders of writers that were killed (their process is gone) would otherwise stay forever.</summary>
    private static void RemoveAbandonedSpillFolders(string root)
    {
        if (!Directory.Exists(root))
        {
            return;
        }
        foreach (var folder in Directory.EnumerateDirectories(root, SpillPrefix + "*"))
        {
            var name = Path.GetFileName(folder)[SpillPrefix.Length..];
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && int.TryParse(name[..dash], CultureInfo.InvariantCulture, out var pid) && !IsAlive(pid))
            {
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (IOException)
                {
                    // Another writer may be cleaning the same folder; it is only scratch space.
                }
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _records?.Dispose();
        _chunk?.Dispose();
        if (_types is not null)
        {
            foreach (var type in _types)
            {
                type.Dispose();
            }
        }
        _appender?.Dispose();
        _connection?.Dispose();
        _textAsBytes?.Dispose();
        _database.Dispose();
        if (_recordsPath is not null)
        {
            DurableFiles.DeleteIfExists(_recordsPath);
            _temporaries.Remove(_recordsPath);
        }
        if (Directory.Exists(_spillFolder))
        {
            Directory.Delete(_spillFolder, recursive: true);
        }
    }
}
