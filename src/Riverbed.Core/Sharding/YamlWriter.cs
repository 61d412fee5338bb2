using System.Globalization;
using System.Text;

namespace Riverbed.Sharding;

/// <summary>A YAML value: a mapping (ordered), a sequence, or a scalar.</summary>
internal abstract record YamlNode;

internal sealed record YamlMap(IReadOnlyList<KeyValuePair<string, YamlNode>> Entries) : YamlNode
{
    public static YamlMap Of(params (string Key, YamlNode? Value)[] entries) =>
        new(entries.Where(entry => entry.Value is not null).Select(entry => new KeyValuePair<string, YamlNode>(entry.Key, entry.Value!)).ToList());
}

internal sealed record YamlList(IReadOnlyList<YamlNode> Items) : YamlNode
{
    public static YamlList Of(params YamlNode[] items) => new(items);
}

/// <summary>A scalar; strings are always double-quoted (JSON escapes) so no value is ever read as a number, bool or null by accident.</summary>
internal sealed record YamlScalar(string Text, bool Quoted) : YamlNode
{
    public static YamlScalar String(string text) => new(text, true);

    public static YamlScalar Number(long value) => new(value.ToString(CultureInfo.InvariantCulture), false);
}

/// <summary>Writes block-style YAML (two-space indents, sequences of mappings as "- key: value").</summary>
internal static class YamlWriter
{
    public static string Write(YamlNode root, string? headerComment = null)
    {
        var s = new StringBuilder();
        if (headerComment is not null)
        {
            foreach (var line in headerComment.Split('\n'))
            {
                s.Append("# ").Append(line).Append('\n');
            }
        }
        WriteBlock(s, root, 0);
        return s.ToString();
    }

    private static void WriteBlock(StringBuilder s, YamlNode node, int indent)
    {
        switch (node)
        {
            case YamlMap map:
                foreach (var (key, value) in map.Entries)
                {
                    s.Append(' ', indent).Append(Key(key)).Append(':');
                    WriteValueAfterKey(s, value, indent);
                }
                break;
            case YamlList list:
                foreach (var item in list.Items)
                {
                    s.Append(' ', indent).Append('-');
                    if (item is YamlMap itemMap && itemMap.Entries.Count > 0)
                    {
                        // The first entry shares the dash's line; the rest line up under it.
                        var first = true;
                        foreach (var (key, value) in itemMap.Entries)
                        {
                            if (first)
                            {
                                s.Append(' ');
                                first = false;
                            }
                            else
                            {
                                s.Append(' ', indent + 2);
                            }
                            s.Append(Key(key)).Append(':');
                            WriteValueAfterKey(s, value, indent + 2);
                        }
                    }
                    else if (item is YamlScalar scalar)
                    {
                        s.Append(' ').Append(Scalar(scalar)).Append('\n');
                    }
                    else
                    {
                        s.Append('\n');
                        WriteBlock(s, item, indent + 2);
                    }
                }
                break;
            case YamlScalar scalar:
                s.Append(' ', indent).Append(Scalar(scalar)).Append('\n');
                break;
        }
    }

    private static void WriteValueAfterKey(StringBuilder s, YamlNode value, int indent)
    {
        switch (value)
        {
            case YamlScalar scalar:
                s.Append(' ').Append(Scalar(scalar)).Append('\n');
                break;
            case YamlMap { Entries.Count: 0 }:
                s.Append(" {}\n");
                break;
            case YamlList { Items.Count: 0 }:
                s.Append(" []\n");
                break;
            case YamlMap:
                s.Append('\n');
                WriteBlock(s, value, indent + 2);
                break;
            default:
                s.Append('\n');
                WriteBlock(s, value, indent);
                break;
        }
    }

    private static string Key(string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '/' or '_' or '-') ? key : Quote(key);

    private static string Scalar(YamlScalar scalar) => scalar.Quoted ? Quote(scalar.Text) : scalar.Text;

    private static string Quote(string text)
    {
        var s = new StringBuilder("\"");
        foreach (var c in text)
        {
            switch (c)
            {
                case '"':
                    s.Append("\\\"");
                    break;
                case '\\':
                    s.Append("\\\\");
                    break;
                case '\n':
                    s.Append("\\n");
                    break;
                case '\t':
                    s.Append("\\t");
                    break;
                default:
                    if (char.IsControl(c))
                    {
                        s.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        s.Append(c);
                    }
                    break;
            }
        }
        return s.Append('"').ToString();
    }
}
