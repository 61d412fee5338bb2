using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Riverbed;

/// <summary>
/// What every persisted file format (manifest, stats, run record, failure marker, job record, calibration) shares:
/// its document type is serialized by a source-generated context through options made here, so all of them write
/// the same way: two-space indentation, non-ASCII text and characters such as &lt; &gt; &amp; + written as they are
/// (thresholds like "fill_compare_min&lt;0" and paths must stay readable, and the files were always written so), and a
/// final newline.
/// </summary>
public static class PersistedJson
{
    /// <summary>
    /// The options a format's context is made with (<c>new FormatContext(PersistedJson.Options())</c>): the relaxed
    /// encoder (source-generation attributes cannot name an encoder), snake_case names, times as round-trip strings,
    /// indented or compact.
    /// </summary>
    public static JsonSerializerOptions Options(bool indented = true) => new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new RoundTripTimeConverter() },
    };

    /// <summary>A document as its file holds it: the serialized value and a final newline.</summary>
    public static byte[] ToFile<T>(T document, JsonTypeInfo<T> type)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(document, type);
        var file = new byte[bytes.Length + 1];
        bytes.CopyTo(file, 0);
        file[^1] = (byte)'\n';
        return file;
    }
}

/// <summary>
/// Times in persisted files are round-trip strings ("O": seven fractional digits and the kind), which every existing
/// file holds; the serializer's own DateTime format drops trailing zero digits, so files would change without it.
/// </summary>
public sealed class RoundTripTimeConverter : JsonConverter<DateTime>
{
    public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String
            && DateTime.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time)
            ? time
            : throw new JsonException("expected a time such as 2026-01-31T12:00:00.0000000Z");

    public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString("O", CultureInfo.InvariantCulture));
    }
}
