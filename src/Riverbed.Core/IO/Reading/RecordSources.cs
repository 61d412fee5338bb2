using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using DuckDB.NET.Native;
using Riverbed.IO.DuckDb;

namespace Riverbed.IO.Reading;

/// <summary>Produces a shard's records in file order, one per call, through a <see cref="RecordProcessor"/>.</summary>
internal interface IRecordSource : IDisposable
{
    /// <summary>How the shard is laid out, for messages (e.g. "JSON array", "JSON Lines (gzip)").</summary>
    string Layout { get; }

    /// <summary>The 1-based line being read, for a message when the file fails part-way (null for Parquet).</summary>
    long? LineReached { get; }

    bool TryNext(RecordProcessor processor, ShardReadStatistics statistics, out ShardRecord record);
}

/// <summary>JSON Lines: one record per non-blank line.</summary>
internal sealed class JsonLinesSource : IRecordSource
{
    private readonly Stream _stream;
    private readonly LineSplitter _lines;
    private readonly int _maxLineBytes;
    private long _lastLine;

    public JsonLinesSource(Stream stream, int maxLineBytes, string layout, UnitRange? unit = null)
    {
        _stream = stream;
        _maxLineBytes = maxLineBytes;
        _lines = unit is null
            ? new LineSplitter(stream, maxLineBytes)
            : new LineSplitter(stream, maxLineBytes, firstByteOffset: unit.Start, firstLine: unit.FirstLine);
        _lastLine = (unit?.FirstLine ?? 1) - 1;
        if (unit is null || unit.Start == 0)
        {
            _lines.SkipLeadingByteOrderMark();
        }
        Layout = layout;
    }

    public string Layout { get; }

    public long? LineReached => _lastLine + 1;

    public bool TryNext(RecordProcessor processor, ShardReadStatistics statistics, out ShardRecord record)
    {
        while (_lines.TryReadLine(out var line))
        {
            _lastLine = line.Number;
            if (line.TooLong)
            {
                record = processor.Reject(RejectKind.LineTooLong,
                    $"the line is {line.Length:N0} bytes, over the limit of {_maxLineBytes:N0} bytes ({SettingNames.Of(Setting.MaxLineBytes)})",
                    line.Bytes, line.Number, line.ByteOffset, line.Length);
                return true;
            }
            if (line.Bytes.IndexOfAnyExcept(" \t\r"u8) < 0)
            {
                statistics.BlankLines++;
                continue;
            }
            record = processor.Process(line.Bytes, line.Number, line.ByteOffset);
            return true;
        }
        record = default;
        return false;
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>A JSON array of records, streamed element by element.</summary>
internal sealed class JsonArraySource : IRecordSource
{
    private readonly Stream _stream;
    private readonly JsonArraySplitter _elements;
    private readonly int _maxElementBytes;
    private readonly long _offsetShift;
    private readonly long _lineShift;
    private long _index;
    private long _lastLine = 1;

    /// <param name="unit">
    /// For a work unit, the stream is '[' followed by the unit's bytes (and ']' unless it is the file's last unit): offsets
    /// and lines the splitter reports in that stream are moved back to where they are in the file, and elements are
    /// numbered from the unit's first.
    /// </param>
    public JsonArraySource(Stream stream, int maxElementBytes, string layout, UnitRange? unit = null)
    {
        _stream = stream;
        _maxElementBytes = maxElementBytes;
        _elements = new JsonArraySplitter(stream, maxElementBytes);
        Layout = layout;
        if (unit is not null)
        {
            _offsetShift = unit.Start - 1;
            _lineShift = unit.FirstLine - 1;
            _index = unit.FirstRow;
            _lastLine = unit.FirstLine;
        }
    }

    public string Layout { get; }

    public long? LineReached => _lastLine;

    public bool TryNext(RecordProcessor processor, ShardReadStatistics statistics, out ShardRecord record)
    {
        if (!_elements.TryReadElement(out var element))
        {
            record = default;
            return false;
        }
        var line = element.Line + _lineShift;
        var offset = element.ByteOffset + _offsetShift;
        var stringStart = element.StringStart + _offsetShift;
        _lastLine = line;
        var index = _index++;
        var at = $"element {index} (byte {offset})";
        record = element switch
        {
            { Problem: ElementProblem.Empty } => processor.Reject(RejectKind.InvalidJson,
                $"{at} is empty: a stray or trailing comma", element.Bytes, line, offset, 0),
            { Problem: ElementProblem.Truncated } => processor.Reject(RejectKind.InvalidJson,
                $"the file ends inside {at}: a '{{' or '[' is never closed (or the file was cut short)", element.Bytes, line, offset, element.Length),
            { Problem: ElementProblem.UnclosedString } => processor.Reject(RejectKind.InvalidJson,
                $"the file ends inside {at}, in a string that opens at byte {stringStart} and is never closed (an unclosed string, or a file cut short)", element.Bytes, line, offset, element.Length),
            { Problem: ElementProblem.NotClosed } => processor.Reject(RejectKind.InvalidJson,
                $"the file ends before the array's closing ']' (at byte {offset}): truncated?", element.Bytes, line, offset, 0),
            { Problem: ElementProblem.TrailingData } => processor.Reject(RejectKind.InvalidJson,
                $"{element.Length:N0} bytes of data follow the array's closing ']' (at byte {offset})", element.Bytes, line, offset, element.Length),
            { TooLong: true } => processor.Reject(RejectKind.LineTooLong,
                $"{at} is {element.Length:N0} bytes, over the limit of {_maxElementBytes:N0} bytes ({SettingNames.Of(Setting.MaxLineBytes)})", element.Bytes, line, offset, element.Length),
            _ => processor.Process(element.Bytes, line, offset, compact: true, context: $"element {index}"),
        };
        return true;
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// Parquet through DuckDB: a streaming scan, one chunk at a time, each row rendered as a JSON object from its typed
/// vectors (strings, binary, numbers, booleans, lists, structs). Columns of other types (dates, decimals, maps, …) are
/// rendered by DuckDB's to_json. Binary (BLOB) values are text stored as bytes, decoded as UTF-8 as Arrow and pandas
/// do. Strings and binary values are checked for valid UTF-8: a row holding invalid text is rejected as invalid_utf8,
/// naming the column, and never repaired. DuckDB itself stops a scan at the first STRING value that is not UTF-8; when
/// that happens the file is read again from a copy whose text columns are declared BINARY
/// (<see cref="ParquetTextAsBytes"/>), the rows already produced are passed over, and each value is checked here, so
/// only the rows with invalid text are rejected.
/// </summary>
internal sealed unsafe class ParquetSource : IRecordSource
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _path;
    private readonly DuckDbDatabase _database;
    private readonly DuckDbConnection _connection;
    private readonly string _select;
    private readonly HashSet<string> _readDirectly = new(StringComparer.Ordinal);
    private readonly JsonEncodedText[] _names;
    private readonly DuckDbTypeInfo[] _types;
    private readonly IReadOnlyList<DuckDbColumn> _declared;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;
    private DuckDbQuery _query;
    private ParquetTextAsBytes? _textAsBytes;
    private DuckDbChunk? _chunk;
    private VectorNode[]? _columns;
    private int _row;
    private long _rowsBeforeChunk;
    private (DuckDbChunk? Chunk, int Row)? _restarted;
    private readonly UnitRange? _unit;

    /// <param name="unit">For a work unit, the rows (whole row groups) to read; DuckDB skips the other row groups.</param>
    public ParquetSource(string path, int threads, UnitRange? unit = null)
    {
        if (path.AsSpan().IndexOfAny("*?[") >= 0)
        {
            throw new ShardReadException(
                $"{path}: Parquet file names containing '*', '?' or '[' cannot be read (DuckDB would treat them as a glob); rename the file");
        }
        _path = path;
        _unit = unit;
        _database = DuckDbDatabase.SharedForScans(threads);
        try
        {
            _connection = _database.Connect();
            var source = Source(path);
            IReadOnlyList<DuckDbColumn> columns;
            using (var probe = _connection.Stream($"SELECT * FROM {source} LIMIT 0"))
            {
                columns = probe.Columns;
            }
            // Columns holding JSON (a JSON column, or one nested in a struct or list) are known by their SQL type name:
            // the C API marks JSON only with a type alias that DuckDB.NET does not bind. They go through to_json with
            // the columns Riverbed does not decode itself, and every to_json result is embedded as JSON text.
            // A column that is JSON itself is read as the text stored (DuckDB hands it over as VARCHAR): to_json would
            // re-parse it and print numbers as doubles, rounding what the writer kept exact.
            var holdsJson = new HashSet<string>(StringComparer.Ordinal);
            var isJson = new HashSet<string>(StringComparer.Ordinal);
            using (var describe = _connection.Stream($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})"))
            {
                while (describe.FetchChunk() is { } chunk)
                {
                    using (chunk)
                    {
                        for (var row = 0UL; row < (ulong)chunk.RowCount; row++)
                        {
                            if (chunk.GetVector(1).GetScalar(describe.Columns[1].Type, row) is string type && type.Contains("JSON", StringComparison.Ordinal))
                            {
                                var name = (string)chunk.GetVector(0).GetScalar(describe.Columns[0].Type, row)!;
                                (type == "JSON" ? isJson : holdsJson).Add(name);
                            }
                        }
                    }
                }
            }
            var converted = columns.Select(column => !column.Type.IsDirectlyDecodable || holdsJson.Contains(column.Name)).ToArray();
            var asJson = columns.Select((column, i) => converted[i] || isJson.Contains(column.Name)).ToArray();
            // Only the columns decoded here can have their text read as bytes on a second pass: to_json would print
            // a BLOB's bytes as \xNN escapes, and a JSON column's text is embedded as it is.
            _readDirectly.UnionWith(columns.Where((_, i) => !asJson[i]).Select(column => column.Name));
            _select = columns.Count == 0 ? "*" : string.Join(", ", columns.Select((column, i) => converted[i]
                ? $"to_json({DuckDbSql.Identifier(column.Name)}) AS {DuckDbSql.Identifier(column.Name)}"
                : DuckDbSql.Identifier(column.Name)));
            // The types as the file declares them, from a query that reads no rows (a scan can fail at its first chunk,
            // and a second pass reads text columns as BLOB; the messages keep the declared types).
            using (var shape = _connection.Stream($"SELECT {_select} FROM {source} LIMIT 0"))
            {
                _declared = shape.Columns;
            }
            _types = _declared.Select((column, i) => asJson.Length > i && asJson[i] ? column.Type.AsJson() : column.Type).ToArray();
            _names = _declared.Select(column => JsonEncodedText.Encode(column.Name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).ToArray();
            try
            {
                _query = _connection.Stream(Query(path));
            }
            catch (DuckDbException error) when (IsInvalidText(error))
            {
                _query = ReadTextAsBytes(error);
            }
            Columns = columns;
            _writer = new Utf8JsonWriter(_buffer, WriterOptions);
        }
        catch
        {
            _query?.Dispose();
            _connection?.Dispose();
            _database.Dispose();
            _textAsBytes?.Dispose();
            throw;
        }
    }

    public string Layout => "Parquet";

    public long? LineReached => null;

    /// <summary>The file's own columns and DuckDB types, as stored.</summary>
    public IReadOnlyList<DuckDbColumn> Columns { get; }

    /// <summary>True once the file is being read from a copy with its text columns as bytes (after DuckDB refused a value).</summary>
    public bool TextReadAsBytes => _textAsBytes is not null;

    private static string Source(string path) => $"read_parquet({DuckDbSql.Literal(path)}, hive_partitioning = false)";

    /// <summary>
    /// The scan of this source's rows in <paramref name="path"/> (the file, or its copy with text as bytes): a work unit
    /// reads only its rows (whole row groups, so DuckDB skips the others) and, like the whole-file scan, relies on
    /// DuckDB keeping the file's order (preserve_insertion_order).
    /// </summary>
    private string Query(string path) => _unit is not { } unit
        ? $"SELECT {_select} FROM {Source(path)}"
        : string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"SELECT {_select} FROM read_parquet({DuckDbSql.Literal(path)}, hive_partitioning = false, file_row_number = true) WHERE file_row_number >= {unit.Start} AND file_row_number < {unit.End}");

    public bool TryNext(RecordProcessor processor, ShardReadStatistics statistics, out ShardRecord record)
    {
        while (_chunk is null || _row >= _chunk.RowCount)
        {
            if (_chunk is not null)
            {
                _rowsBeforeChunk += _chunk.RowCount;
                _chunk.Dispose();
                _chunk = null;
            }
            _row = 0;
            _chunk = FetchChunk();
            if (_chunk is null)
            {
                record = default;
                return false;
            }
            _columns = new VectorNode[_declared.Count];
            for (var i = 0; i < _columns.Length; i++)
            {
                _columns[i] = VectorNode.Build(_chunk.GetVector(i), _types[i]);
            }
        }
        var row = (ulong)_row++;
        _buffer.ResetWrittenCount();
        _writer.Reset();
        _writer.WriteStartObject();
        for (var i = 0; i < _columns!.Length; i++)
        {
            _writer.WritePropertyName(_names[i]);
            if (!_columns[i].TryWrite(_writer, row, out var invalid))
            {
                // The reject keeps the offending value's bytes as they are (the rejects file hex-escapes what is not UTF-8).
                record = processor.Reject(RejectKind.InvalidUtf8, $"column '{_declared[i].Name}{invalid.Path}' {invalid.Problem}",
                    invalid.Value, null, 0, invalid.Value.Length);
                return true;
            }
        }
        _writer.WriteEndObject();
        _writer.Flush();
        record = processor.Process(_buffer.WrittenSpan, null, 0, trusted: true);
        return true;
    }

    /// <summary>The next chunk; after a restart (<see cref="ReadTextAsBytes"/>), the one holding the next row, at <see cref="_row"/>.</summary>
    private DuckDbChunk? FetchChunk()
    {
        if (_restarted is { } restarted)
        {
            _restarted = null;
            _row = restarted.Row;
            _rowsBeforeChunk -= restarted.Row;
            return restarted.Chunk;
        }
        try
        {
            return _query.FetchChunk();
        }
        catch (DuckDbException error) when (_textAsBytes is null && IsInvalidText(error))
        {
            var query = ReadTextAsBytes(error);
            _query.Dispose();
            _query = query;
            return FetchChunk();
        }
    }

    /// <summary>
    /// DuckDB refused a STRING value that is not UTF-8 (when the scan started, or at a chunk): the scan starts again on a
    /// copy of the file whose text columns are BINARY, passing over the rows already produced; the chunk holding the
    /// next row is kept for <see cref="FetchChunk"/>. Every later chunk comes from this scan.
    /// </summary>
    private DuckDbQuery ReadTextAsBytes(DuckDbException error)
    {
        var size = new FileInfo(_path).Length;
        if (size > ParquetTextAsBytes.MaxBytes)
        {
            throw new DuckDbException(
                $"{error.Message} (Riverbed reads such a file again with its text as bytes, to reject only the bad rows, from a copy " +
                $"held in memory; this file is {size:N0} bytes, more than the {ParquetTextAsBytes.MaxBytes:N0} bytes allowed for that)");
        }
        _textAsBytes = ParquetTextAsBytes.Create(_path, _readDirectly);
        var query = _connection.Stream(Query(_textAsBytes.Path));
        try
        {
            if (!query.Columns.Select(column => column.Type).SequenceEqual(_declared.Select(column => column.Type), TextAsBytesComparer.Instance))
            {
                throw new DuckDbException($"{error.Message} (read again with its text as bytes, the file's columns changed shape)");
            }
            for (var skip = _rowsBeforeChunk; ;)
            {
                var chunk = query.FetchChunk();
                if (chunk is null || skip < chunk.RowCount)
                {
                    _restarted = (chunk, (int)skip);
                    return query;
                }
                skip -= chunk.RowCount;
                chunk.Dispose();
            }
        }
        catch
        {
            query.Dispose();
            throw;
        }
    }

    internal static bool IsInvalidText(DuckDbException error) =>
        error.Message.Contains("Invalid string encoding found in Parquet file", StringComparison.Ordinal);

    public void Dispose()
    {
        _chunk?.Dispose();
        _restarted?.Chunk?.Dispose();
        _writer?.Dispose();
        _query?.Dispose();
        _connection?.Dispose();
        _database.Dispose();
        _textAsBytes?.Dispose();
    }

    /// <summary>Type trees equal but for a VARCHAR read as BLOB (the two share one vector layout).</summary>
    private sealed class TextAsBytesComparer : IEqualityComparer<DuckDbTypeInfo>
    {
        public static readonly TextAsBytesComparer Instance = new();

        public bool Equals(DuckDbTypeInfo? x, DuckDbTypeInfo? y) =>
            x is not null && y is not null
            && (x.Id == y.Id || (x.Id is DuckDBType.Varchar or DuckDBType.Blob && y.Id is DuckDBType.Varchar or DuckDBType.Blob))
            && x.ArraySize == y.ArraySize
            && (x.Element is null ? y.Element is null : Equals(x.Element, y.Element))
            && x.Fields.Count == y.Fields.Count
            && x.Fields.Zip(y.Fields).All(pair => pair.First.Name == pair.Second.Name && Equals(pair.First.Type, pair.Second.Type));

        public int GetHashCode(DuckDbTypeInfo obj) => obj.Fields.Count;
    }

    /// <summary>A value whose text is not valid UTF-8: where it is below its column, what is wrong, and its bytes.</summary>
    private sealed record InvalidText(string Path, string Problem, byte[] Value);

    /// <summary>A vector and its children with their data pointers fetched once per chunk.</summary>
    private sealed class VectorNode
    {
        /// <summary>Bytes that JSON strings must escape: control characters, the quote and the backslash.</summary>
        private static readonly SearchValues<byte> NeedsEscaping = SearchValues.Create(
            [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\']);

        [ThreadStatic]
        private static byte[]? _quotedBuffer;

        private DuckDbTypeInfo _type = null!;
        private void* _data;
        private ulong* _validity;
        private VectorNode? _element;
        private VectorNode[] _fields = [];
        private JsonEncodedText[] _fieldNames = [];

        public static VectorNode Build(DuckDbVector vector, DuckDbTypeInfo type)
        {
            var node = new VectorNode { _type = type, _data = vector.Data, _validity = vector.Validity };
            switch (type.Id)
            {
                case DuckDBType.List:
                    node._element = Build(vector.ListChild, type.Element!);
                    break;
                case DuckDBType.Array:
                    node._element = Build(vector.ArrayChild, type.Element!);
                    break;
                case DuckDBType.Struct:
                    node._fields = new VectorNode[type.Fields.Count];
                    node._fieldNames = new JsonEncodedText[type.Fields.Count];
                    for (var i = 0; i < type.Fields.Count; i++)
                    {
                        node._fields[i] = Build(vector.StructChild(i), type.Fields[i].Type);
                        node._fieldNames[i] = JsonEncodedText.Encode(type.Fields[i].Name, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
                    }
                    break;
            }
            return node;
        }

        /// <summary>Writes one value; false (with the nested path and what is wrong) when its text is not valid UTF-8.</summary>
        public bool TryWrite(Utf8JsonWriter writer, ulong row, [NotNullWhen(false)] out InvalidText? invalid)
        {
            invalid = null;
            if (!DuckDbVector.IsValid(_validity, row))
            {
                writer.WriteNullValue();
                return true;
            }
            switch (_type.Id)
            {
                case DuckDBType.Boolean:
                    writer.WriteBooleanValue(((byte*)_data)[row] != 0);
                    return true;
                case DuckDBType.TinyInt:
                    writer.WriteNumberValue(((sbyte*)_data)[row]);
                    return true;
                case DuckDBType.SmallInt:
                    writer.WriteNumberValue(((short*)_data)[row]);
                    return true;
                case DuckDBType.Integer:
                    writer.WriteNumberValue(((int*)_data)[row]);
                    return true;
                case DuckDBType.BigInt:
                    writer.WriteNumberValue(((long*)_data)[row]);
                    return true;
                case DuckDBType.UnsignedTinyInt:
                    writer.WriteNumberValue(((byte*)_data)[row]);
                    return true;
                case DuckDBType.UnsignedSmallInt:
                    writer.WriteNumberValue(((ushort*)_data)[row]);
                    return true;
                case DuckDBType.UnsignedInteger:
                    writer.WriteNumberValue(((uint*)_data)[row]);
                    return true;
                case DuckDBType.UnsignedBigInt:
                    writer.WriteNumberValue(((ulong*)_data)[row]);
                    return true;
                case DuckDBType.Float:
                    var single = ((float*)_data)[row];
                    if (float.IsFinite(single))
                    {
                        writer.WriteNumberValue(single);
                    }
                    else
                    {
                        WriteFloatingPoint(writer, single);
                    }
                    return true;
                case DuckDBType.Double:
                    WriteFloatingPoint(writer, ((double*)_data)[row]);
                    return true;
                case DuckDBType.Varchar:
                case DuckDBType.Blob:
                    var bytes = DuckDbVector.StringBytes(_data, row);
                    if (!Utf8.IsValid(bytes))
                    {
                        var at = JsonRecordValidator.FirstInvalidUtf8(bytes);
                        invalid = new InvalidText(string.Empty,
                            $"holds {(_type.Id == DuckDBType.Blob ? "binary (BLOB) data" : "text")} that is not valid UTF-8 " +
                            $"(byte {at} of {bytes.Length}: {Convert.ToHexString(bytes.Slice(at, Math.Min(4, bytes.Length - at)))})",
                            bytes.ToArray());
                        return false;
                    }
                    if (_type.IsJson)
                    {
                        // DuckDB's own JSON text (to_json or a JSON column), valid by construction. Validating it here
                        // would apply System.Text.Json's default depth of 64 below --max-depth; the whole record is
                        // parsed with the reader's limits right after (RecordProcessor), so that is where depth is refused.
                        writer.WriteRawValue(bytes, skipInputValidation: true);
                    }
                    else if (bytes.IndexOfAny(NeedsEscaping) < 0)
                    {
                        // Most text needs no escaping: quote it directly rather than run the encoder over every character.
                        WriteQuoted(writer, bytes);
                    }
                    else
                    {
                        writer.WriteStringValue(bytes);
                    }
                    return true;
                case DuckDBType.List:
                    var entry = ((DuckDBListEntry*)_data)[row];
                    return WriteItems(writer, entry.Offset, entry.Length, out invalid);
                case DuckDBType.Array:
                    var size = (ulong)_type.ArraySize;
                    return WriteItems(writer, row * size, size, out invalid);
                case DuckDBType.Struct:
                    writer.WriteStartObject();
                    for (var i = 0; i < _fields.Length; i++)
                    {
                        writer.WritePropertyName(_fieldNames[i]);
                        if (!_fields[i].TryWrite(writer, row, out var inner))
                        {
                            invalid = inner with { Path = "." + _type.Fields[i].Name + inner.Path };
                            return false;
                        }
                    }
                    writer.WriteEndObject();
                    return true;
                default:
                    throw new DuckDbException($"Riverbed cannot render DuckDB type {_type} (the scan should have converted it with to_json)");
            }
        }

        private bool WriteItems(Utf8JsonWriter writer, ulong first, ulong count, [NotNullWhen(false)] out InvalidText? invalid)
        {
            invalid = null;
            writer.WriteStartArray();
            for (var i = first; i < first + count; i++)
            {
                if (!_element!.TryWrite(writer, i, out var inner))
                {
                    invalid = inner with { Path = $"[{i - first}]{inner.Path}" };
                    return false;
                }
            }
            writer.WriteEndArray();
            return true;
        }

        private static void WriteQuoted(Utf8JsonWriter writer, ReadOnlySpan<byte> text)
        {
            var quoted = _quotedBuffer ??= new byte[4096];
            if (quoted.Length < text.Length + 2)
            {
                quoted = _quotedBuffer = new byte[Math.Max(text.Length + 2, quoted.Length * 2)];
            }
            quoted[0] = (byte)'"';
            text.CopyTo(quoted.AsSpan(1));
            quoted[text.Length + 1] = (byte)'"';
            writer.WriteRawValue(quoted.AsSpan(0, text.Length + 2), skipInputValidation: true);
        }

        /// <summary>JSON has no NaN or infinities; they are written as the strings "NaN", "Infinity", "-Infinity".</summary>
        private static void WriteFloatingPoint(Utf8JsonWriter writer, double value)
        {
            if (double.IsFinite(value))
            {
                writer.WriteNumberValue(value);
            }
            else
            {
                writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
            }
        }
    }
}
