namespace Riverbed.IO;

/// <summary>Why a record was not turned into an <see cref="Example"/>. Written as snake_case in rejects files.</summary>
public enum RejectKind
{
    /// <summary>The bytes are not valid UTF-8 (invalid, overlong or surrogate sequences, or a character cut off).</summary>
    InvalidUtf8,

    /// <summary>Not valid JSON: truncated, trailing data, bad escape, NaN/Infinity, an unpaired surrogate escape, ….</summary>
    InvalidJson,

    /// <summary>A byte order mark somewhere other than the start of the file.</summary>
    UnexpectedBom,

    /// <summary>An object that names the same key twice (which one is meant is ambiguous).</summary>
    DuplicateKey,

    /// <summary>Nesting deeper than the configured maximum.</summary>
    TooDeep,

    /// <summary>A line (or JSON array element) longer than the configured maximum.</summary>
    LineTooLong,

    /// <summary>The record is valid JSON but not an object.</summary>
    NotAnObject,

    /// <summary>A field the schema needs is absent or null.</summary>
    MissingField,

    /// <summary>A field has the wrong JSON type (e.g. a number where text is expected).</summary>
    WrongType,

    /// <summary>A turn's role is not one Riverbed knows (e.g. "narrator"; tool roles are read as tool turns).</summary>
    UnknownRole,

    /// <summary>The turns cannot be read: text before the first speaker label, a conversation that starts with the bot, ….</summary>
    MalformedConversation,

    /// <summary>The conversation has no assistant turn, so there is nothing to score.</summary>
    NoBotTurn,

    /// <summary>A key that no column or field can be named: empty, or holding a NUL character.</summary>
    InvalidKey,
}

/// <summary>A record that could not be read, with everything needed to find and fix it.</summary>
public sealed class Reject
{
    public Reject(string file, long row, long? line, long byteOffset, RejectKind kind, string message, ReadOnlyMemory<byte> raw, long rawLength)
    {
        File = file;
        Row = row;
        Line = line;
        ByteOffset = byteOffset;
        Kind = kind;
        Message = message;
        Raw = raw;
        RawLength = rawLength;
    }

    /// <summary>The input file's path as the user named it (or as found under a folder or glob they named).</summary>
    public string File { get; }

    /// <summary>0-based record index, counted like <see cref="Example.Row"/>.</summary>
    public long Row { get; }

    /// <summary>1-based line where the record starts (JSON, JSON Lines); null for Parquet.</summary>
    public long? Line { get; }

    public long ByteOffset { get; }

    public RejectKind Kind { get; }

    public string Message { get; }

    /// <summary>The start of the raw record, capped (see <see cref="ReaderLimits.MaxRawBytesInReject"/>); may be invalid UTF-8.</summary>
    public ReadOnlyMemory<byte> Raw { get; }

    /// <summary>The full length of the raw record in bytes (more than <see cref="Raw"/> when capped).</summary>
    public long RawLength { get; }

    /// <summary>"file:line" for text formats, "file row N" for Parquet: how messages point at a record.</summary>
    public string Location => Line is { } line ? $"{File}:{line}" : $"{File} row {Row}";

    public override string ToString() => $"{Location}: {RejectKinds.Name(Kind)}: {Message}";
}

/// <summary>The stable snake_case names of reject kinds, as written to rejects files and manifests.</summary>
public static class RejectKinds
{
    public static string Name(RejectKind kind) => kind switch
    {
        RejectKind.InvalidUtf8 => "invalid_utf8",
        RejectKind.InvalidJson => "invalid_json",
        RejectKind.UnexpectedBom => "unexpected_bom",
        RejectKind.DuplicateKey => "duplicate_key",
        RejectKind.TooDeep => "too_deep",
        RejectKind.LineTooLong => "line_too_long",
        RejectKind.NotAnObject => "not_an_object",
        RejectKind.MissingField => "missing_field",
        RejectKind.WrongType => "wrong_type",
        RejectKind.UnknownRole => "unknown_role",
        RejectKind.MalformedConversation => "malformed_conversation",
        RejectKind.NoBotTurn => "no_bot_turn",
        RejectKind.InvalidKey => "invalid_key",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}

/// <summary>What a shard reader yields, in input order: an example, or a reject standing in for a record.</summary>
public readonly struct ShardRecord
{
    private readonly object _value;

    public ShardRecord(Example example) => _value = example ?? throw new ArgumentNullException(nameof(example));

    public ShardRecord(Reject reject) => _value = reject ?? throw new ArgumentNullException(nameof(reject));

    public Example? Example => _value as Example;

    public Reject? Reject => _value as Reject;

    public bool IsReject => _value is Reject;

    public long Row => _value is Example example ? example.Row : ((Reject)_value).Row;
}
