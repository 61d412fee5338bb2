using System.Text;
using System.Text.Json;

namespace Riverbed.Core.Tests.Tokenization.Oracles;

/// <summary>
/// Texts for comparing Riverbed's tokenizers with other implementations: every string value in the shared datasets
/// (prompts, responses, conversation turns, labels) and seeded random Unicode.
/// </summary>
internal static class OracleTexts
{
    /// <summary>Distinct non-empty strings found in the shared dataset files (JSON and JSON Lines), in file order.</summary>
    public static IReadOnlyList<string> FromDatasets(int limit)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var texts = new List<string>();
        var files = Directory.GetFiles(TestPaths.Fixture("datasets"), "*.json*", SearchOption.AllDirectories)
            .Where(path => path.EndsWith(".json", StringComparison.Ordinal) || path.EndsWith(".jsonl", StringComparison.Ordinal))
            .Where(path => Path.GetFileName(path) != "sources.json")
            .Order(StringComparer.Ordinal)
            .ToList();
        // Take from every file in turn so that a large file does not crowd the others out.
        var perFile = files.Select(ReadStrings).Select(strings => strings.GetEnumerator()).ToList();
        var active = true;
        while (texts.Count < limit && active)
        {
            active = false;
            foreach (var strings in perFile)
            {
                while (strings.MoveNext())
                {
                    active = true;
                    if (strings.Current.Length > 0 && seen.Add(strings.Current))
                    {
                        texts.Add(strings.Current);
                        break;
                    }
                }
                if (texts.Count >= limit)
                {
                    break;
                }
            }
        }
        return texts;
    }

    /// <summary>
    /// Random strings of 1 to 60 code points drawn from blocks that stress tokenizers: ASCII and punctuation, Latin
    /// with accents and combining marks, Greek and Cyrillic, CJK, Hangul, Arabic and Hebrew, emoji with ZWJ and
    /// variation selectors, and unusual whitespace and control characters. Never U+0000 or a lone surrogate: those
    /// cannot cross into Rust as a string.
    /// </summary>
    public static IReadOnlyList<string> RandomUnicode(int count, int seed)
    {
        (int First, int Last)[] ranges =
        [
            (0x20, 0x7E), (0x20, 0x7E), (0x20, 0x7E), (0x09, 0x0D), (0x01, 0x1F), (0x7F, 0xA0), (0xA1, 0x17F),
            (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F),
            (0xE00, 0xE7F), (0x1100, 0x11FF), (0x2000, 0x206F), (0x2100, 0x214F), (0x3000, 0x303F), (0x3040, 0x30FF),
            (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFE00, 0xFE0F), (0xFF00, 0xFFEF), (0x1D400, 0x1D7FF),
            (0x1F300, 0x1F6FF), (0x1F900, 0x1F9FF), (0x1F1E6, 0x1F1FF), (0x20000, 0x2A6DF), (0x200D, 0x200D),
        ];
        var random = new Random(seed);
        var texts = new List<string>(count);
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            text.Clear();
            var length = random.Next(1, 61);
            for (var j = 0; j < length; j++)
            {
                var (first, last) = ranges[random.Next(ranges.Length)];
                text.Append(char.ConvertFromUtf32(random.Next(first, last + 1)));
            }
            texts.Add(text.ToString());
        }
        return texts;
    }

    private static IEnumerable<string> ReadStrings(string path)
    {
        // Some ".json" files of the shared datasets hold JSON Lines: a file that is not one JSON value is read by line.
        var whole = File.ReadAllText(path);
        var documents = path.EndsWith(".jsonl", StringComparison.Ordinal) || !IsOneValue(whole)
            ? whole.Split('\n').Where(line => line.Trim().Length > 0)
            : [whole];
        foreach (var document in documents)
        {
            using var parsed = JsonDocument.Parse(document);
            foreach (var text in Strings(parsed.RootElement))
            {
                // Rust receives a NUL-terminated string, so a text with U+0000 would be cut short there.
                if (!text.Contains('\0', StringComparison.Ordinal))
                {
                    yield return text;
                }
            }
        }
    }

    private static bool IsOneValue(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static IEnumerable<string> Strings(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                yield return element.GetString()!;
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var text in Strings(item))
                    {
                        yield return text;
                    }
                }
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    foreach (var text in Strings(property.Value))
                    {
                        yield return text;
                    }
                }
                break;
        }
    }
}
