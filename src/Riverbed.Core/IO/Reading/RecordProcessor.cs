using System.Text.Json;
using System.Text.Unicode;
using Riverbed.IO.Schemas;
using Riverbed.IO.Writing;

namespace Riverbed.IO.Reading;

/// <summary>
/// Turns one record's bytes into an <see cref="Example"/> or a <see cref="Reject"/>: validation, parsing, schema
/// detection on the first valid record, mapping to turns, and the id. Rows are numbered in the order records arrive.
/// </summary>
internal sealed class RecordProcessor
{
    private readonly ShardInput _input;
    private readonly ReaderOptions _options;
    private readonly JsonRecordValidator _validator;
    private readonly JsonDocumentOptions _documentOptions;
    private readonly JsonDocumentOptions _trustedOptions;
    private readonly List<Turn> _turns = [];
    private RecordSchema? _schema;
    private long _nextRow;

    /// <summary>Whether each record's JSON shape goes with its example (the Parquet writer needs it; JSON Lines does not).</summary>
    private readonly bool _observeShapes;

    public RecordProcessor(ShardInput input, ReaderOptions options, bool observeShapes = false)
    {
        _input = input;
        _options = options;
        _observeShapes = observeShapes && input.Format != InputFormat.Parquet;
        // A work unit numbers its rows from where it starts in the file, so ids and outputs match a whole-file read.
        _nextRow = input.Unit?.FirstRow ?? 0;
        _validator = new JsonRecordValidator(options.Limits.MaxDepth);
        _documentOptions = new JsonDocumentOptions { MaxDepth = options.Limits.MaxDepth, AllowDuplicateProperties = false };
        _trustedOptions = ReaderLimits.ValidatedRecord;
        if (SchemaDetector.Forced(options.Schema) is var (schema, detection))
        {
            _schema = schema;
            Detection = detection;
        }
    }

    public SchemaDetection? Detection { get; private set; }

    public ShardReadStatistics Statistics { get; } = new();

    /// <summary>Maps a record. <paramref name="trusted"/> skips validation of JSON Riverbed rendered itself (Parquet rows).</summary>
    /// <param name="context">Prefixed to reject messages, e.g. "element 7" for JSON array elements.</param>
    public ShardRecord Process(ReadOnlySpan<byte> bytes, long? line, long offset, bool trusted = false, bool compact = false, string? context = null)
    {
        var prefix = context is null ? string.Empty : context + ": ";
        var owned = compact && bytes.IndexOfAny((byte)'\n', (byte)'\r') >= 0 ? Minify(bytes) : bytes.ToArray();
        var row = _nextRow;
        JsonDocument document;
        try
        {
            // The fast path: System.Text.Json enforces syntax, depth and unique keys while parsing. The validator runs
            // only on failure, to say exactly what is wrong, and for what parsing lets through (bad UTF-8, a BOM,
            // unpaired surrogate escapes).
            if (!trusted && (bytes.StartsWith(JsonRecordValidator.ByteOrderMark) || !Utf8.IsValid(bytes)))
            {
                throw new JsonException();
            }
            document = JsonDocument.Parse(owned, trusted ? _trustedOptions : _documentOptions);
        }
        catch (JsonException error)
        {
            var problem = _validator.Validate(bytes) ?? new RecordProblem(RejectKind.InvalidJson, error.Message);
            return Reject(problem.Kind, prefix + problem.Message, bytes, line, offset, bytes.Length);
        }
        using var _ = document;
        if (!trusted)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Reject(RejectKind.NotAnObject, prefix + "the record is valid JSON but not an object", bytes, line, offset, bytes.Length);
            }
            if (JsonRecordValidator.FindUnpairedSurrogateEscape(bytes) is { } at)
            {
                return Reject(RejectKind.InvalidJson, $"{prefix}string escape at byte {at} is an unpaired UTF-16 surrogate", bytes, line, offset, bytes.Length);
            }
            // An empty key or one with a NUL parses, but no Parquet column or field can carry that name. Only a record
            // holding "" or \u0000 somewhere can have one, so only such a record is walked again to find it.
            if ((bytes.IndexOf("\"\""u8) >= 0 || bytes.IndexOf("\\u0000"u8) >= 0)
                && _validator.Validate(bytes) is { Kind: RejectKind.InvalidKey } keyProblem)
            {
                return Reject(keyProblem.Kind, prefix + keyProblem.Message, bytes, line, offset, bytes.Length);
            }
        }
        var root = document.RootElement;
        if (_schema is null)
        {
            if (SchemaDetector.Detect(root, _options.Schema) is not var (schema, detection))
            {
                var fields = string.Join(", ", root.EnumerateObject().Select(property => property.Name).Take(20));
                var where = line is { } l ? $"{_input.DisplayPath}:{l}" : $"{_input.DisplayPath} row {row}";
                throw new ShardReadException(
                    $"{where}: cannot tell the dataset schema from the first valid record (fields: {fields}). " +
                    $"Name it with {SettingNames.Of(Setting.Schema)} ({string.Join(", ", SchemaOptions.Names.Skip(1))}); for other field names use " +
                    $"{SettingNames.Of(Setting.Schema)} generic {SettingNames.Of(Setting.PromptField)} <field> {SettingNames.Of(Setting.ResponseField)} <field>");
            }
            _schema = schema;
            Detection = detection with { Reason = $"{detection.Reason}, in the first valid record ({(line is { } at ? $"line {at}" : $"row {row}")})" };
        }
        _turns.Clear();
        if (_schema.Map(root, _turns) is { } mapProblem)
        {
            return Reject(mapProblem.Kind, prefix + mapProblem.Message, bytes, line, offset, bytes.Length);
        }
        string id;
        if (_options.Schema.IdField is { } idField)
        {
            if (!root.TryGetProperty(idField, out var idValue) || idValue.ValueKind == JsonValueKind.Null)
            {
                return Reject(RejectKind.MissingField, $"{prefix}id field '{idField}' is missing", bytes, line, offset, bytes.Length);
            }
            if (RecordSchema.IdText(idValue) is not { } fromField)
            {
                return Reject(RejectKind.WrongType, $"{prefix}id field '{idField}' must be a string or an integer", bytes, line, offset, bytes.Length);
            }
            id = fromField;
        }
        else
        {
            // A record with an id field that holds no usable id is refused rather than given {file}#{row} quietly: the
            // id is how rows are joined back to the data, and a made-up one would pass for the record's own.
            if (_schema.DefaultId(root, out var wrongType) is { } fromRecord)
            {
                id = fromRecord;
            }
            else if (wrongType is not null)
            {
                return Reject(RejectKind.WrongType,
                    $"{prefix}{wrongType}, not a string or an integer; fix the id, or name another field with {SettingNames.Of(Setting.IdField)}", bytes, line, offset, bytes.Length);
            }
            else
            {
                id = $"{_input.SourceName}#{row}";
            }
        }
        _nextRow++;
        JsonShape? shape = null;
        if (_observeShapes)
        {
            // The record is parsed here anyway; observing its shape now spares the single writer thread a second parse.
            shape = new JsonShape();
            shape.Observe(root);
        }
        var example = new Example(id, _turns.ToArray(), _input.SourceName, row, line, offset, owned) { Shape = shape };
        Statistics.CountExample(example);
        return new ShardRecord(example);
    }

    public ShardRecord Reject(RejectKind kind, string message, ReadOnlySpan<byte> raw, long? line, long offset, long rawLength)
    {
        var cap = _options.Limits.MaxRawBytesInReject;
        var kept = raw.Length <= cap ? raw.ToArray() : raw[..cap].ToArray();
        var reject = new Reject(_input.DisplayPath, _nextRow++, line, offset, kind, message, kept, rawLength);
        Statistics.CountReject(kind);
        return new ShardRecord(reject);
    }

    /// <summary>Drops whitespace outside strings, so a pretty-printed array element fits on one line byte-for-byte otherwise.</summary>
    private static byte[] Minify(ReadOnlySpan<byte> json)
    {
        var output = new byte[json.Length];
        var length = 0;
        var inString = false;
        var escaped = false;
        foreach (var b in json)
        {
            if (inString)
            {
                if (escaped)
                {
                    escaped = false;
                }
                else if (b == (byte)'\\')
                {
                    escaped = true;
                }
                else if (b == (byte)'"')
                {
                    inString = false;
                }
            }
            else if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }
            else if (b == (byte)'"')
            {
                inString = true;
            }
            output[length++] = b;
        }
        return output.AsSpan(0, length).ToArray();
    }
}
