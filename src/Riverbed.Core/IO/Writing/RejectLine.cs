using System.Text.Json;
using System.Text.Json.Serialization;

namespace Riverbed.IO.Writing;

/// <summary>
/// One line of a shard's rejects or failures file (<c>{name}.rejects.jsonl</c>, <c>{name}.failures.jsonl</c>): the one
/// type the writer (<see cref="SideFile"/>) and every reader (the report) use, serialized by <see cref="RejectLineJson"/>.
/// Properties in file order. <see cref="Raw"/> is the record's bytes as text, capped: UTF-8 as it is
/// (<see cref="RawEncoding"/> "utf-8") or with invalid bytes as \xNN and backslashes doubled ("utf-8+hex-escapes").
/// </summary>
public sealed record RejectLine
{
    public const string Utf8 = "utf-8";
    public const string Utf8WithHexEscapes = "utf-8+hex-escapes";

    public string? File { get; init; }

    /// <summary>The example's id; only failures have one (a reject was never an example).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Id { get; init; }

    public long? Row { get; init; }

    /// <summary>The line in the input; null where the input has no lines (Parquet).</summary>
    public long? Line { get; init; }

    public long? ByteOffset { get; init; }

    public string? Kind { get; init; }

    public string? Message { get; init; }

    public string? Raw { get; init; }

    public string? RawEncoding { get; init; }

    /// <summary>The record's full length in bytes (<see cref="Raw"/> may hold fewer).</summary>
    public long? RawBytes { get; init; }

    public bool RawTruncated { get; init; }

    /// <summary>Reads one line; <see cref="JsonException"/> when it is not JSON of this shape.</summary>
    public static RejectLine Parse(string line) =>
        JsonSerializer.Deserialize(line, RejectLineJson.Lines.RejectLine) ?? throw new JsonException("the line is null");
}

/// <summary>Rejects and failures lines: compact, one per line.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RejectLine))]
public sealed partial class RejectLineJson : JsonSerializerContext
{
    public static RejectLineJson Lines { get; } = new(PersistedJson.Options(indented: false));
}
