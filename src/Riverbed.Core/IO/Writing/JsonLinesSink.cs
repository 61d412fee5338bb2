using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Riverbed.IO.Writing;

/// <summary>Where a sink's rows went for one route, in a temporary file ready for commit.</summary>
internal sealed record StagedOutput(string Route, string TemporaryPath, long Rows);

/// <summary>Receives rows in input order and stages output files under temporary names.</summary>
internal interface IRowSink : IDisposable
{
    void Write(Example example, ReadOnlySpan<ColumnValue> extras, string route);

    /// <summary>Writes every route's temporary file (routes with no rows get an empty file); the caller fsyncs and renames.</summary>
    IReadOnlyList<StagedOutput> Stage(IReadOnlyList<string> routes, CancellationToken cancellationToken);

    /// <summary>Every temporary path created so far (deleted on abort).</summary>
    IEnumerable<string> TemporaryPaths { get; }
}

/// <summary>
/// JSON Lines output: each line is the original record with Riverbed's columns appended as extra keys. The record's
/// bytes are kept as they were read (the object is re-serialized only when it already holds a key named like a Riverbed
/// column, which is then replaced).
/// </summary>
internal sealed class JsonLinesSink : IRowSink
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly ShardLayout _layout;
    private readonly IReadOnlyList<ColumnDefinition> _columns;
    private readonly byte[][] _quotedNames;
    private readonly Dictionary<string, (FileStream Stream, string Path, long Rows)> _routes = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _suffix = new(1024);
    private readonly Utf8JsonWriter _writer;

    public JsonLinesSink(ShardLayout layout, IReadOnlyList<ColumnDefinition> columns)
    {
        _layout = layout;
        _columns = columns;
        _quotedNames = columns.Select(column => Encoding.UTF8.GetBytes("\"" + JsonEncodedText.Encode(column.Name).Value + "\"")).ToArray();
        _writer = new Utf8JsonWriter(_suffix, Options);
    }

    public IEnumerable<string> TemporaryPaths => _routes.Values.Select(route => route.Path).ToList();

    public void Write(Example example, ReadOnlySpan<ColumnValue> extras, string route)
    {
        var (stream, path, rows) = Open(route);
        var record = example.Record.Span.TrimEnd(" \t\r\n"u8);
        if (MayHoldRiverbedKey(record))
        {
            record = WithoutRiverbedKeys(record);
        }
        _suffix.ResetWrittenCount();
        _writer.Reset();
        _writer.WriteStartObject();
        _writer.WriteString(_columns[0].Name, example.Id);
        _writer.WriteString(_columns[1].Name, example.Source);
        _writer.WriteNumber(_columns[2].Name, example.Row);
        for (var i = 0; i < extras.Length; i++)
        {
            _writer.WritePropertyName(_columns[3 + i].Name);
            WriteValue(_writer, _columns[3 + i].Type, extras[i]);
        }
        _writer.WriteEndObject();
        _writer.Flush();
        var body = record[..^1].TrimEnd(" \t\r\n"u8);
        stream.Write(body);
        if (body.Length > 1)
        {
            stream.WriteByte((byte)',');
        }
        stream.Write(_suffix.WrittenSpan[1..]);
        stream.WriteByte((byte)'\n');
        _routes[route] = (stream, path, rows + 1);
    }

    public IReadOnlyList<StagedOutput> Stage(IReadOnlyList<string> routes, CancellationToken cancellationToken)
    {
        var staged = new List<StagedOutput>();
        foreach (var route in routes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (stream, path, rows) = Open(route);
            stream.Flush();
            stream.Dispose();
            staged.Add(new StagedOutput(route, path, rows));
        }
        return staged;
    }

    public void Dispose()
    {
        foreach (var (stream, _, _) in _routes.Values)
        {
            stream.Dispose();
        }
        _writer.Dispose();
    }

    /// <summary>JSON for a declared column value; NaN and infinities (not JSON numbers) become strings.</summary>
    internal static void WriteValue(Utf8JsonWriter writer, ColumnType type, ColumnValue value)
    {
        if (value.IsNull)
        {
            writer.WriteNullValue();
            return;
        }
        switch (type.Kind)
        {
            case ColumnKind.String:
                writer.WriteStringValue(value.AsString());
                break;
            case ColumnKind.Int32:
                writer.WriteNumberValue(value.AsInt32());
                break;
            case ColumnKind.Int64:
                writer.WriteNumberValue(value.AsInt64());
                break;
            case ColumnKind.Double:
                var number = value.AsDouble();
                if (double.IsFinite(number))
                {
                    writer.WriteNumberValue(number);
                }
                else
                {
                    writer.WriteStringValue(double.IsNaN(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity");
                }
                break;
            case ColumnKind.Boolean:
                writer.WriteBooleanValue(value.AsBoolean());
                break;
            case ColumnKind.List:
                writer.WriteStartArray();
                foreach (var item in value.Items)
                {
                    WriteValue(writer, type.Element!, item);
                }
                writer.WriteEndArray();
                break;
            case ColumnKind.Struct:
                writer.WriteStartObject();
                for (var i = 0; i < type.Fields.Count; i++)
                {
                    writer.WritePropertyName(type.Fields[i].Name);
                    WriteValue(writer, type.Fields[i].Type, value.Items[i]);
                }
                writer.WriteEndObject();
                break;
        }
    }

    private (FileStream Stream, string Path, long Rows) Open(string route)
    {
        if (_routes.TryGetValue(route, out var open))
        {
            return open;
        }
        var final = _layout.Full(_layout.RelativeDataPath(route));
        _layout.CreateFolderFor(final);
        var path = ShardLayout.TemporaryPath(final);
        var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        open = (stream, path, 0);
        _routes[route] = open;
        return open;
    }

    private bool MayHoldRiverbedKey(ReadOnlySpan<byte> record)
    {
        foreach (var name in _quotedNames)
        {
            if (record.IndexOf(name) >= 0)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Re-serializes the record without top-level keys named like Riverbed's columns (rerunning over an output).</summary>
    private byte[] WithoutRiverbedKeys(ReadOnlySpan<byte> record)
    {
        using var document = JsonDocument.Parse(record.ToArray(), ReaderLimits.ValidatedRecord);
        var buffer = new ArrayBufferWriter<byte>(record.Length);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!_columns.Any(column => column.Name == property.Name))
                {
                    property.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
