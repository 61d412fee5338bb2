using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Riverbed.IO.Reading;

/// <summary>Why a record's bytes are not an acceptable JSON object, as a reject kind and a message.</summary>
internal readonly record struct RecordProblem(RejectKind Kind, string Message);

/// <summary>
/// Checks one record's bytes before they are parsed for their content: UTF-8 validity (never decoded with
/// replacement), JSON syntax, nesting depth, duplicate keys and unpaired surrogate escapes, which System.Text.Json
/// accepts while parsing but which would corrupt text later. One forward pass with <see cref="Utf8JsonReader"/>.
/// </summary>
internal sealed class JsonRecordValidator
{
    public static readonly byte[] ByteOrderMark = [0xEF, 0xBB, 0xBF];

    private readonly int _maxDepth;
    private readonly List<(int Hash, int Start, int Length)> _names = [];
    private readonly Stack<(int Names, int Arena)> _objects = new();
    private byte[] _arena = new byte[1024];
    private int _arenaLength;
    private char[] _chars = new char[256];

    public JsonRecordValidator(int maxDepth) => _maxDepth = maxDepth;

    public RecordProblem? Validate(ReadOnlySpan<byte> json)
    {
        if (json.StartsWith(ByteOrderMark))
        {
            return new RecordProblem(RejectKind.UnexpectedBom, "a UTF-8 byte order mark (EF BB BF) starts this record; only the start of a file may carry one");
        }
        if (!Utf8.IsValid(json))
        {
            var at = FirstInvalidUtf8(json);
            return new RecordProblem(RejectKind.InvalidUtf8,
                $"invalid UTF-8 at byte {at} of the record (bytes {Hex(json.Slice(at, Math.Min(4, json.Length - at)))})");
        }
        _names.Clear();
        _objects.Clear();
        _arenaLength = 0;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = _maxDepth + 1 });
        var first = true;
        var isObject = false;
        try
        {
            while (reader.Read())
            {
                if (first)
                {
                    isObject = reader.TokenType == JsonTokenType.StartObject;
                    first = false;
                }
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        if (reader.CurrentDepth >= _maxDepth)
                        {
                            return new RecordProblem(RejectKind.TooDeep,
                                $"nesting deeper than {_maxDepth} levels at byte {reader.TokenStartIndex} (limit: {SettingNames.Of(Setting.MaxDepth)})");
                        }
                        if (reader.TokenType == JsonTokenType.StartObject)
                        {
                            _objects.Push((_names.Count, _arenaLength));
                        }
                        break;
                    case JsonTokenType.EndObject:
                        var (names, arena) = _objects.Pop();
                        _names.RemoveRange(names, _names.Count - names);
                        _arenaLength = arena;
                        break;
                    case JsonTokenType.PropertyName:
                        if (CheckEscapes(ref reader) is { } badName)
                        {
                            return badName;
                        }
                        if (IsDuplicate(ref reader, out var name))
                        {
                            return new RecordProblem(RejectKind.DuplicateKey,
                                $"key \"{name}\" appears twice in one object (second at byte {reader.TokenStartIndex})");
                        }
                        // A key names a column or a struct field in Parquet output; DuckDB (and most tools) cannot name
                        // one "" or with a NUL in it, so such a record is refused here, by itself, whatever the format.
                        var (_, keyStart, keyLength) = _names[^1];
                        if (keyLength == 0)
                        {
                            return new RecordProblem(RejectKind.InvalidKey, $"an empty key (\"\") at byte {reader.TokenStartIndex}: a field needs a name");
                        }
                        if (_arena.AsSpan(keyStart, keyLength).IndexOf((byte)0) >= 0)
                        {
                            return new RecordProblem(RejectKind.InvalidKey,
                                $"key \"{Encoding.UTF8.GetString(_arena, keyStart, keyLength).Replace("\0", "\\u0000", StringComparison.Ordinal)}\" at byte {reader.TokenStartIndex} holds a NUL character (\\u0000), which no field name may");
                        }
                        break;
                    case JsonTokenType.String:
                        if (CheckEscapes(ref reader) is { } badString)
                        {
                            return badString;
                        }
                        break;
                }
            }
        }
        catch (JsonException error)
        {
            return new RecordProblem(RejectKind.InvalidJson, $"invalid JSON at byte {error.BytePositionInLine ?? 0} of the record: {JsonErrors.Reason(error)}");
        }
        if (first)
        {
            return new RecordProblem(RejectKind.InvalidJson, "the record is empty");
        }
        return isObject ? null : new RecordProblem(RejectKind.NotAnObject, "the record is valid JSON but not an object");
    }

    /// <summary>
    /// In JSON that parsed, the offset of the first \u escape that is an unpaired UTF-16 surrogate, or null. After a
    /// successful parse every backslash belongs to an escape inside a string, so a scan from backslash to backslash is exact.
    /// </summary>
    public static int? FindUnpairedSurrogateEscape(ReadOnlySpan<byte> json)
    {
        var at = 0;
        while (true)
        {
            var found = json[at..].IndexOf((byte)'\\');
            if (found < 0 || at + found + 1 >= json.Length)
            {
                return null;
            }
            at += found;
            if (json[at + 1] != (byte)'u' || at + 6 > json.Length)
            {
                at += 2;
                continue;
            }
            var unit = Hex4(json.Slice(at + 2, 4));
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (at + 12 <= json.Length && json[at + 6] == (byte)'\\' && json[at + 7] == (byte)'u' && Hex4(json.Slice(at + 8, 4)) is >= 0xDC00 and <= 0xDFFF)
                {
                    at += 12;
                    continue;
                }
                return at;
            }
            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                return at;
            }
            at += 6;
        }
    }

    private static int Hex4(ReadOnlySpan<byte> digits)
    {
        var value = 0;
        foreach (var digit in digits)
        {
            value = (value << 4) | digit switch
            {
                >= (byte)'0' and <= (byte)'9' => digit - '0',
                >= (byte)'a' and <= (byte)'f' => digit - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => digit - 'A' + 10,
                _ => 0,
            };
        }
        return value;
    }

    /// <summary>Index of the first byte that does not start a valid UTF-8 sequence.</summary>
    public static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var index = 0;
        while (index < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[index..], out _, out var consumed) != OperationStatus.Done)
            {
                return index;
            }
            index += consumed;
        }
        return -1;
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);


    private RecordProblem? CheckEscapes(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return null;
        }
        var needed = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        if (_chars.Length < needed)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }
        try
        {
            reader.CopyString(_chars);
            return null;
        }
        catch (InvalidOperationException error)
        {
            return new RecordProblem(RejectKind.InvalidJson, $"string at byte {reader.TokenStartIndex} has an invalid escape: {error.Message}");
        }
    }

    private bool IsDuplicate(ref Utf8JsonReader reader, out string name)
    {
        name = string.Empty;
        ReadOnlySpan<byte> bytes;
        if (reader.ValueIsEscaped)
        {
            var needed = reader.ValueSpan.Length;
            EnsureArena(needed);
            var written = reader.CopyString(_arena.AsSpan(_arenaLength));
            bytes = _arena.AsSpan(_arenaLength, written);
        }
        else
        {
            bytes = reader.ValueSpan;
            EnsureArena(bytes.Length);
            bytes.CopyTo(_arena.AsSpan(_arenaLength));
            bytes = _arena.AsSpan(_arenaLength, bytes.Length);
        }
        var hash = Hash(bytes);
        var (firstName, _) = _objects.Peek();
        for (var i = firstName; i < _names.Count; i++)
        {
            var (otherHash, start, length) = _names[i];
            if (otherHash == hash && _arena.AsSpan(start, length).SequenceEqual(bytes))
            {
                name = Encoding.UTF8.GetString(bytes);
                return true;
            }
        }
        _names.Add((hash, _arenaLength, bytes.Length));
        _arenaLength += bytes.Length;
        return false;
    }

    private void EnsureArena(int extra)
    {
        if (_arenaLength + extra > _arena.Length)
        {
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _arenaLength + extra));
        }
    }

    private static int Hash(ReadOnlySpan<byte> bytes)
    {
        var hash = new HashCode();
        hash.AddBytes(bytes);
        return hash.ToHashCode();
    }
}
