using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Riverbed.ModelKit;

/// <summary>
/// Writes JSON the way Python's <c>json.dumps(obj, indent=2, ensure_ascii=False)</c> does, which is how HF writes
/// config.json and tokenizer.json: generated files then look (and for tokenizer.json, hash) like the real ones.
/// </summary>
internal static class PythonStyleJson
{
    public static string Serialize(JsonNode? node, bool sortKeys = false)
    {
        var text = new StringBuilder();
        Write(text, node, 0, sortKeys);
        return text.Append('\n').ToString();
    }

    private static void Write(StringBuilder text, JsonNode? node, int depth, bool sortKeys)
    {
        switch (node)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject obj:
                IEnumerable<KeyValuePair<string, JsonNode?>> members = sortKeys
                    ? obj.OrderBy(member => member.Key, StringComparer.Ordinal)
                    : obj;
                WriteContainer(text, '{', '}', members, depth, (member, d) =>
                {
                    WriteString(text, member.Key);
                    text.Append(": ");
                    Write(text, member.Value, d, sortKeys);
                });
                break;
            case JsonArray array:
                WriteContainer(text, '[', ']', array, depth, (item, d) => Write(text, item, d, sortKeys));
                break;
            case JsonValue value:
                WriteValue(text, value);
                break;
            default:
                throw new ArgumentException($"unsupported JSON node {node.GetType().Name}", nameof(node));
        }
    }

    private static void WriteContainer<T>(StringBuilder text, char open, char close, IEnumerable<T> items, int depth,
        Action<T, int> writeItem)
    {
        text.Append(open);
        var first = true;
        foreach (var item in items)
        {
            text.Append(first ? "\n" : ",\n").Append(' ', (depth + 1) * 2);
            writeItem(item, depth + 1);
            first = false;
        }
        if (!first)
        {
            text.Append('\n').Append(' ', depth * 2);
        }
        text.Append(close);
    }

    private static void WriteValue(StringBuilder text, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(text, value.GetValue<string>());
                break;
            case JsonValueKind.True:
                text.Append("true");
                break;
            case JsonValueKind.False:
                text.Append("false");
                break;
            case JsonValueKind.Null:
                text.Append("null");
                break;
            case JsonValueKind.Number:
                // Integers as written; reals (created from double) in Python's repr form.
                if (!value.TryGetValue<long>(out _) && !value.TryGetValue<int>(out _) && value.TryGetValue<double>(out var real))
                {
                    text.Append(FormatReal(real));
                }
                else
                {
                    text.Append(value.ToJsonString());
                }
                break;
            default:
                throw new ArgumentException($"unsupported JSON value kind {value.GetValueKind()}", nameof(value));
        }
    }

    // Python's repr of a float: shortest round-trip digits, "1e-12" rather than .NET's "1E-12", always a '.' or 'e'.
    private static string FormatReal(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            return text.Contains('.', StringComparison.Ordinal) ? text : text + ".0";
        }
        var mantissa = text[..e];
        var exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{mantissa}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}");
    }

    private static void WriteString(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    break;
                case '\\':
                    text.Append("\\\\");
                    break;
                case '\n':
                    text.Append("\\n");
                    break;
                case '\r':
                    text.Append("\\r");
                    break;
                case '\t':
                    text.Append("\\t");
                    break;
                case '\b':
                    text.Append("\\b");
                    break;
                case '\f':
                    text.Append("\\f");
                    break;
                default:
                    if (c < ' ')
                    {
                        text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        text.Append(c);
                    }
                    break;
            }
        }
        text.Append('"');
    }
}
