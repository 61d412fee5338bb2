using System.Globalization;
using System.Text.Json;

namespace Riverbed.Tokenization.Json;

/// <summary>
/// Typed reads from a tokenizer.json document that fail with a <see cref="TokenizerLoadException"/> naming the
/// source, the JSON path and what was expected.
/// </summary>
internal sealed class JsonReading(string source)
{
    public string Source { get; } = source;

    public TokenizerLoadException Error(string path, string message) =>
        new($"{Source}: {path}: {message}") { JsonPath = path };

    public static string Child(string path, string name) => $"{path}.{name}";

    public static string Item(string path, int index) => $"{path}[{index}]";

    public JsonElement RequireObject(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, $"expected an object, found {Describe(element)}.");
        }
        return element;
    }

    public JsonElement RequireArray(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw Error(path, $"expected an array, found {Describe(element)}.");
        }
        return element;
    }

    /// <summary>The property, or null when it is absent or JSON null.</summary>
    public static JsonElement? Optional(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public JsonElement Required(JsonElement obj, string name, string path) =>
        Optional(obj, name) ?? throw Error(Child(path, name), "is required but missing.");

    public string String(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            throw Error(path, $"expected a string, found {Describe(element)}.");
        }
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException error)
        {
            throw new TokenizerLoadException($"{Source}: {path}: not a valid string ({error.Message})", error)
            {
                JsonPath = path,
            };
        }
    }

    public string RequiredString(JsonElement obj, string name, string path) =>
        String(Required(obj, name, path), Child(path, name));

    public string? OptionalString(JsonElement obj, string name, string path) =>
        Optional(obj, name) is { } value ? String(value, Child(path, name)) : null;

    public bool Bool(JsonElement obj, string name, string path, bool fallback)
    {
        if (Optional(obj, name) is not { } value)
        {
            return fallback;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(Child(path, name), $"expected true or false, found {Describe(value)}."),
        };
    }

    public bool? OptionalBool(JsonElement obj, string name, string path) =>
        Optional(obj, name) is null ? null : Bool(obj, name, path, false);

    public int Int(JsonElement element, string path, long min, long max)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var value))
        {
            throw Error(path, $"expected an integer, found {Describe(element)}.");
        }
        if (value < min || value > max)
        {
            throw Error(path, $"{value} is out of range (expected {min}..{max}).");
        }
        return (int)value;
    }

    public int Int(JsonElement obj, string name, string path, int fallback, long min, long max) =>
        Optional(obj, name) is { } value ? Int(value, Child(path, name), min, max) : fallback;

    public double Double(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetDouble(out var value) || !double.IsFinite(value))
        {
            throw Error(path, $"expected a finite number, found {Describe(element)}.");
        }
        return value;
    }

    /// <summary>A string holding exactly one character (a Rust <c>char</c>): returns its code point.</summary>
    public int Char(JsonElement element, string path)
    {
        var text = String(element, path);
        var index = 0;
        if (text.Length == 0 || (Text.CodePoints.Read(text, ref index) is var cp && index != text.Length))
        {
            throw Error(path, $"expected a single character, found \"{text}\".");
        }
        return cp;
    }

    public TEnum Enum<TEnum>(JsonElement obj, string name, string path, TEnum fallback, params (string Name, TEnum Value)[] values)
    {
        if (Optional(obj, name) is not { } value)
        {
            return fallback;
        }
        var text = String(value, Child(path, name));
        foreach (var (candidate, result) in values)
        {
            if (string.Equals(candidate, text, StringComparison.Ordinal))
            {
                return result;
            }
        }
        throw Error(Child(path, name),
            $"\"{text}\" is not supported; expected one of {string.Join(", ", values.Select(v => $"\"{v.Name}\""))}.");
    }

    public static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string {element.GetRawText()[..Math.Min(42, element.GetRawText().Length)]}",
        JsonValueKind.Number => $"the number {element.GetRawText()}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        _ => element.ValueKind.ToString().ToLowerInvariant(),
    };

    public static string Format(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
