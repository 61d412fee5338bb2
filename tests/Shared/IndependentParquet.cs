using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet.Serialization;

namespace Riverbed.Testing;

/// <summary>
/// A second Parquet implementation (Parquet.Net, fully managed, sharing no code with DuckDB) for reading back what
/// Riverbed writes: rows become JSON objects (structs → objects, lists → arrays) so they can be compared with what
/// DuckDB, or Riverbed's own reader, makes of the same file.
/// </summary>
public static class IndependentParquet
{
    public static List<JsonObject> ReadRows(string path)
    {
        using var stream = File.OpenRead(path);
        var result = ParquetSerializer.DeserializeUntypedAsync(stream).GetAwaiter().GetResult();
        return [.. result.Data.Select(row => (JsonObject)ToNode(row)!)];
    }

    /// <summary>
    /// Where <paramref name="actual"/> (read by Parquet.Net) differs from <paramref name="expected"/> (the same row read
    /// by DuckDB or Riverbed), as "path: expected … got …" lines; only the properties of <paramref name="actual"/> are
    /// compared when <paramref name="onlyActualProperties"/> (the other reader may add columns of its own).
    /// </summary>
    public static List<string> Differences(JsonElement expected, JsonNode? actual, bool onlyActualProperties = false)
    {
        var differences = new List<string>();
        Compare(expected, actual, "$", onlyActualProperties, differences);
        return differences;
    }

    private static void Compare(JsonElement expected, JsonNode? actual, string path, bool onlyActualProperties, List<string> differences)
    {
        // A column of DuckDB's JSON type is a string to Parquet.Net (the logical type only says "this text is JSON"),
        // while the other reader embeds the value: compare the parsed text then.
        if (actual is JsonValue jsonText && jsonText.TryGetValue<string>(out var raw)
            && (expected.ValueKind != JsonValueKind.String || expected.GetString() != raw)
            && TryParse(raw) is { } parsed)
        {
            var inner = new List<string>();
            Compare(expected, parsed.Value, path, onlyActualProperties, inner);
            if (inner.Count == 0)
            {
                return;
            }
        }
        switch (expected.ValueKind)
        {
            case JsonValueKind.Array when actual is null && expected.GetArrayLength() == 0:
                // Parquet.Net's untyped reader returns null for an empty list (observed with 6.1.0); DuckDB keeps the
                // two apart, so an empty list is all this check can confirm there.
                return;
            case JsonValueKind.Null:
                if (actual is not null)
                {
                    differences.Add($"{path}: expected null, got {actual.ToJsonString()}");
                }
                return;
            case JsonValueKind.Object when actual is JsonObject actualObject:
                var names = onlyActualProperties
                    ? actualObject.Select(property => property.Key).ToList()
                    : expected.EnumerateObject().Select(property => property.Name).Union(actualObject.Select(property => property.Key)).ToList();
                foreach (var name in names)
                {
                    if (!expected.TryGetProperty(name, out var expectedValue))
                    {
                        differences.Add($"{path}.{name}: only Parquet.Net has it");
                        continue;
                    }
                    Compare(expectedValue, actualObject.TryGetPropertyValue(name, out var value) ? value : null, $"{path}.{name}", onlyActualProperties, differences);
                }
                return;
            case JsonValueKind.Array when actual is JsonArray actualArray:
                if (expected.GetArrayLength() != actualArray.Count)
                {
                    differences.Add($"{path}: expected {expected.GetArrayLength()} items, got {actualArray.Count}");
                    return;
                }
                var index = 0;
                foreach (var item in expected.EnumerateArray())
                {
                    Compare(item, actualArray[index], $"{path}[{index}]", onlyActualProperties, differences);
                    index++;
                }
                return;
            case JsonValueKind.Number when actual is JsonValue whole && whole.TryGetValue<long>(out var actualInteger) && expected.TryGetInt64(out var expectedInteger):
                if (expectedInteger != actualInteger)
                {
                    differences.Add($"{path}: expected {expected.GetRawText()}, got {actualInteger}");
                }
                return;
            case JsonValueKind.Number when actual is JsonValue number && number.TryGetValue<double>(out var actualNumber):
                var expectedNumber = expected.GetDouble();
                // FLOAT columns: the other reader prints the float's shortest text, Parquet.Net gives the float itself.
                if (expectedNumber != actualNumber && Math.Abs(expectedNumber - actualNumber) > 1e-6 * Math.Max(1, Math.Abs(expectedNumber)))
                {
                    differences.Add($"{path}: expected {expected.GetRawText()}, got {actualNumber.ToString("R", CultureInfo.InvariantCulture)}");
                }
                return;
            case JsonValueKind.String when actual is JsonValue value && value.TryGetValue<string>(out var actualText):
                if (expected.GetString() != actualText)
                {
                    differences.Add($"{path}: expected {expected.GetRawText()}, got {JsonSerializer.Serialize(actualText)}");
                }
                return;
            case JsonValueKind.True or JsonValueKind.False when actual is JsonValue flag && flag.TryGetValue<bool>(out var actualFlag):
                if (expected.GetBoolean() != actualFlag)
                {
                    differences.Add($"{path}: expected {expected.GetRawText()}, got {actualFlag}");
                }
                return;
            default:
                differences.Add($"{path}: expected {expected.GetRawText()}, got {actual?.ToJsonString() ?? "null"}");
                return;
        }
    }

    private static (JsonNode? Value, bool Parsed)? TryParse(string text)
    {
        try
        {
            return (JsonNode.Parse(text), true);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string text => JsonValue.Create(text),
        bool flag => JsonValue.Create(flag),
        float single => JsonValue.Create((double)single),
        double number => JsonValue.Create(number),
        sbyte or byte or short or ushort or int or uint or long => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        ulong unsigned => JsonValue.Create((double)unsigned),
        decimal number => JsonValue.Create((double)number),
        IDictionary<string, object?> fields => new JsonObject(fields.Select(field => KeyValuePair.Create(field.Key, ToNode(field.Value)))),
        // DuckDB's JSON columns are byte arrays to Parquet.Net (binary with the JSON logical type): their UTF-8 text.
        byte[] bytes => JsonValue.Create(System.Text.Unicode.Utf8.IsValid(bytes) ? System.Text.Encoding.UTF8.GetString(bytes) : Convert.ToBase64String(bytes)),
        IEnumerable items => new JsonArray([.. items.Cast<object?>().Select(ToNode)]),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };
}
