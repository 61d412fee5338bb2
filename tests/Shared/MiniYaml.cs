using System.Globalization;
using System.Text.Json;

namespace Riverbed.Testing;

/// <summary>
/// A reader for the block-style YAML subset Kubernetes manifests use (mappings, sequences, compact sequences under a
/// key, double-quoted and plain scalars, comments), written independently of the emitter so the test checks the
/// structure a YAML reader sees rather than the emitter's own idea of it. Maps become dictionaries, sequences lists,
/// quoted scalars strings and plain integers longs.
/// </summary>
internal static class MiniYaml
{
    public static object? Parse(string text)
    {
        var lines = new List<(int Indent, string Content, int Number)>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var trimmed = raw.TrimEnd();
            var content = trimmed.TrimStart(' ');
            if (content.Length == 0 || content.StartsWith('#'))
            {
                continue;
            }
            if (trimmed.Contains('\t', StringComparison.Ordinal))
            {
                throw new FormatException($"line {number}: tab in indentation");
            }
            lines.Add((trimmed.Length - content.Length, content, number));
        }
        var i = 0;
        var root = lines.Count == 0 ? null : Block(lines, ref i, lines[0].Indent);
        if (i != lines.Count)
        {
            throw new FormatException($"line {lines[i].Number}: unexpected indentation");
        }
        return root;
    }

    private static object Block(List<(int Indent, string Content, int Number)> lines, ref int i, int indent) =>
        IsItem(lines[i].Content) ? Sequence(lines, ref i, indent) : Map(lines, ref i, indent);

    private static bool IsItem(string content) => content == "-" || content.StartsWith("- ", StringComparison.Ordinal);

    private static Dictionary<string, object?> Map(List<(int Indent, string Content, int Number)> lines, ref int i, int indent)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (i < lines.Count && lines[i].Indent == indent && !IsItem(lines[i].Content))
        {
            var (_, content, number) = lines[i];
            var (key, rest) = SplitKey(content, number);
            if (!map.TryAdd(key, null))
            {
                throw new FormatException($"line {number}: duplicate key '{key}'");
            }
            i++;
            if (rest.Length > 0)
            {
                map[key] = Scalar(rest, number);
            }
            else if (i < lines.Count && lines[i].Indent > indent)
            {
                map[key] = Block(lines, ref i, lines[i].Indent);
            }
            else if (i < lines.Count && lines[i].Indent == indent && IsItem(lines[i].Content))
            {
                map[key] = Sequence(lines, ref i, indent);
            }
        }
        if (i < lines.Count && lines[i].Indent > indent)
        {
            throw new FormatException($"line {lines[i].Number}: unexpected indentation");
        }
        return map;
    }

    private static List<object?> Sequence(List<(int Indent, string Content, int Number)> lines, ref int i, int indent)
    {
        var list = new List<object?>();
        while (i < lines.Count && lines[i].Indent == indent && IsItem(lines[i].Content))
        {
            var (_, content, number) = lines[i];
            var item = content.Length > 1 ? content[2..].TrimStart(' ') : string.Empty;
            if (item.Length == 0)
            {
                i++;
                list.Add(i < lines.Count && lines[i].Indent > indent ? Block(lines, ref i, lines[i].Indent) : null);
            }
            else if (LooksLikeKey(item))
            {
                // "- key: value" opens a mapping whose entries line up with "key".
                var itemIndent = indent + (content.Length - item.Length);
                lines[i] = (itemIndent, item, number);
                list.Add(Map(lines, ref i, itemIndent));
            }
            else
            {
                list.Add(Scalar(item, number));
                i++;
            }
        }
        return list;
    }

    private static bool LooksLikeKey(string content)
    {
        if (content.StartsWith('"'))
        {
            var end = QuotedEnd(content);
            return end > 0 && end + 1 < content.Length && content[end + 1] == ':';
        }
        return content.Contains(": ", StringComparison.Ordinal) || content.EndsWith(':');
    }

    private static (string Key, string Value) SplitKey(string content, int number)
    {
        if (content.StartsWith('"'))
        {
            var end = QuotedEnd(content);
            if (end < 0 || end + 1 >= content.Length || content[end + 1] != ':')
            {
                throw new FormatException($"line {number}: expected a key");
            }
            return ((string)Scalar(content[..(end + 1)], number)!, content[(end + 2)..].Trim());
        }
        var colon = content.IndexOf(": ", StringComparison.Ordinal);
        if (colon < 0 && content.EndsWith(':'))
        {
            return (content[..^1], string.Empty);
        }
        if (colon <= 0)
        {
            throw new FormatException($"line {number}: expected 'key: value', found '{content}'");
        }
        return (content[..colon], content[(colon + 2)..].Trim());
    }

    private static int QuotedEnd(string content)
    {
        for (var j = 1; j < content.Length; j++)
        {
            if (content[j] == '\\')
            {
                j++;
            }
            else if (content[j] == '"')
            {
                return j;
            }
        }
        return -1;
    }

    private static object? Scalar(string text, int number)
    {
        if (text.StartsWith('"'))
        {
            if (QuotedEnd(text) != text.Length - 1)
            {
                throw new FormatException($"line {number}: text after a quoted scalar");
            }
            return JsonSerializer.Deserialize<string>(text.Replace("\\/", "/", StringComparison.Ordinal));
        }
        return text switch
        {
            "{}" => new Dictionary<string, object?>(),
            "[]" => new List<object?>(),
            "null" or "~" => null,
            _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) => value,
            _ when text.StartsWith('\'') || text.StartsWith('[') || text.StartsWith('{') || text.Contains(" #", StringComparison.Ordinal) =>
                throw new FormatException($"line {number}: unsupported scalar '{text}'"),
            _ => text,
        };
    }
}
