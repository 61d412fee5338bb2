using System.Text.Json;
using Riverbed.Tokenization;

namespace Riverbed.Core.Tests.Tokenization;

/// <summary>One line of a golden.jsonl: an input and what HF's Rust tokenizers produced for it.</summary>
internal sealed record GoldenCase(
    string Id,
    string Text,
    string? Pair,
    bool AddSpecialTokens,
    TruncationOptions? Truncation,
    int[] Ids,
    int[] TypeIds,
    string[] Tokens,
    (int Start, int End)[] Offsets,
    int[] SpecialTokensMask,
    int[] AttentionMask,
    int?[] WordIds,
    int?[] SequenceIds,
    string? Decoded)
{
    public static IEnumerable<GoldenCase> Read(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                continue;
            }
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            TruncationOptions? truncation = null;
            if (root.TryGetProperty("truncation", out var t) && t.ValueKind == JsonValueKind.Object)
            {
                truncation = new TruncationOptions
                {
                    MaxLength = t.GetProperty("max_length").GetInt32(),
                    Stride = t.TryGetProperty("stride", out var stride) ? stride.GetInt32() : 0,
                    Strategy = t.TryGetProperty("strategy", out var s) ? s.GetString() switch
                    {
                        "only_first" => TruncationStrategy.OnlyFirst,
                        "only_second" => TruncationStrategy.OnlySecond,
                        _ => TruncationStrategy.LongestFirst,
                    } : TruncationStrategy.LongestFirst,
                    Direction = t.TryGetProperty("direction", out var d) && d.GetString() == "left"
                        ? TruncationDirection.Left
                        : TruncationDirection.Right,
                };
            }
            yield return new GoldenCase(
                root.GetProperty("id").GetString()!,
                root.GetProperty("text").GetString()!,
                root.TryGetProperty("pair", out var pair) && pair.ValueKind == JsonValueKind.String ? pair.GetString() : null,
                root.GetProperty("add_special_tokens").GetBoolean(),
                truncation,
                Ints(root, "ids"),
                Ints(root, "type_ids"),
                root.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()!).ToArray(),
                root.GetProperty("offsets_utf16").EnumerateArray().Select(e => (e[0].GetInt32(), e[1].GetInt32())).ToArray(),
                Ints(root, "special_tokens_mask"),
                Ints(root, "attention_mask"),
                NullableInts(root, "word_ids"),
                NullableInts(root, "sequence_ids"),
                root.TryGetProperty("decoded", out var decoded) ? decoded.GetString() : null);
        }
    }

    /// <summary>The fields that differ between this case and an encoding, described for a failure message.</summary>
    public IEnumerable<string> Differences(EncodedText actual, string? decoded)
    {
        if (!Ids.SequenceEqual(actual.Ids))
        {
            yield return $"ids: expected [{string.Join(",", Ids)}] got [{string.Join(",", actual.Ids)}]";
        }
        if (!Tokens.SequenceEqual(actual.Tokens))
        {
            yield return $"tokens: expected [{string.Join("|", Tokens)}] got [{string.Join("|", actual.Tokens)}]";
        }
        if (!TypeIds.SequenceEqual(actual.TypeIds))
        {
            yield return $"type_ids: expected [{string.Join(",", TypeIds)}] got [{string.Join(",", actual.TypeIds)}]";
        }
        var offsets = actual.Offsets.Select(r => (r.Start.Value, r.End.Value)).ToArray();
        if (!Offsets.SequenceEqual(offsets))
        {
            yield return $"offsets: expected [{string.Join(",", Offsets)}] got [{string.Join(",", offsets)}]";
        }
        if (!SpecialTokensMask.SequenceEqual(actual.SpecialTokensMask))
        {
            yield return $"special_tokens_mask: expected [{string.Join(",", SpecialTokensMask)}] got [{string.Join(",", actual.SpecialTokensMask)}]";
        }
        if (!AttentionMask.SequenceEqual(actual.AttentionMask))
        {
            yield return "attention_mask differs";
        }
        if (!WordIds.SequenceEqual(actual.WordIds))
        {
            yield return $"word_ids: expected [{string.Join(",", WordIds)}] got [{string.Join(",", actual.WordIds)}]";
        }
        if (!SequenceIds.SequenceEqual(actual.SequenceIds))
        {
            yield return $"sequence_ids: expected [{string.Join(",", SequenceIds)}] got [{string.Join(",", actual.SequenceIds)}]";
        }
        if (Decoded is not null && decoded is not null && Decoded != decoded)
        {
            yield return $"decoded: expected \"{Decoded}\" got \"{decoded}\"";
        }
    }

    private static int[] Ints(JsonElement root, string name) =>
        root.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private static int?[] NullableInts(JsonElement root, string name) =>
        root.GetProperty(name).EnumerateArray()
            .Select(e => e.ValueKind == JsonValueKind.Null ? (int?)null : e.GetInt32()).ToArray();
}
