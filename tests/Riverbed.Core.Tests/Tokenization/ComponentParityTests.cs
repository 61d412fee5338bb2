using System.Text.Json;
using System.Text.Json.Nodes;
using Riverbed.Tokenization;

namespace Riverbed.Core.Tests.Tokenization;

/// <summary>
/// Parity with HF's Rust tokenizers beyond the shared fixtures: Golden/*.jsonl (written by
/// bench/hf-tokenizers/make-goldens.js) cover every supported normalizer, pre-tokenizer, model option,
/// post-processor and decoder, added-token flags, and truncation with strides, left direction, every strategy and
/// the overflowing windows. Each file starts with the tokenizer configuration (a fixture plus a patch).
/// </summary>
public sealed class ComponentParityTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(GoldenFolder, "*.jsonl").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }
        return data;
    }

    private static string GoldenFolder =>
        Path.Combine(TestPaths.RepositoryRoot, "tests", "Riverbed.Core.Tests", "Tokenization", "Golden");

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_case_matches_HF(string name)
    {
        var lines = File.ReadAllLines(Path.Combine(GoldenFolder, name + ".jsonl"));
        var config = JsonNode.Parse(lines[0])!["config"]!;
        var tokenizer = Tokenizer.FromJson(BuildTokenizerJson(config));

        var failures = new List<string>();
        foreach (var line in lines.Skip(1))
        {
            using var document = JsonDocument.Parse(line);
            var expected = document.RootElement;
            var id = expected.GetProperty("id").GetString()!;
            var text = expected.GetProperty("text").GetString()!;
            var pair = expected.TryGetProperty("pair", out var p) ? p.GetString() : null;
            var options = new EncodeOptions
            {
                AddSpecialTokens = expected.GetProperty("add_special_tokens").GetBoolean(),
                Truncation = ReadTruncation(expected.GetProperty("truncation")),
            };
            EncodedText actual;
            try
            {
                actual = tokenizer.Encode(text, pair, options);
            }
            catch (TokenizationException error)
            {
                if (!expected.TryGetProperty("error", out _))
                {
                    failures.Add($"{id}: threw {error.Message}");
                }
                continue;
            }
            if (expected.TryGetProperty("error", out var hfError))
            {
                failures.Add($"{id}: HF refused this input ({hfError.GetString()}), Riverbed encoded it");
                continue;
            }
            var differences = new List<string>();
            Compare(expected, actual, "", differences);
            var decoded = tokenizer.Decode(actual.Ids.AsSpan(), skipSpecialTokens: true);
            if (decoded != expected.GetProperty("decoded").GetString())
            {
                differences.Add($"decoded \"{decoded}\" vs HF \"{expected.GetProperty("decoded").GetString()}\"");
            }
            var decodedAll = tokenizer.Decode(actual.Ids.AsSpan(), skipSpecialTokens: false);
            if (decodedAll != expected.GetProperty("decoded_with_special").GetString())
            {
                differences.Add($"decoded with special tokens \"{decodedAll}\" vs HF " +
                    $"\"{expected.GetProperty("decoded_with_special").GetString()}\"");
            }
            if (differences.Count > 0)
            {
                failures.Add($"{id}: {string.Join("; ", differences)}");
            }
        }
        Assert.True(failures.Count == 0,
            $"{name}: {failures.Count} of {lines.Length - 1} cases differ from HF:\n" + string.Join("\n", failures.Take(30)));
    }

    /// <summary>The patch semantics of make-goldens.js.</summary>
    internal static string BuildTokenizerJson(JsonNode config)
    {
        var baseName = config["base"]?.GetValue<string>();
        var json = baseName is null
            ? new JsonObject()
            : JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("tokenizers", baseName, "tokenizer.json")))!.AsObject();
        foreach (var (key, value) in config["patch"]!.AsObject())
        {
            switch (key)
            {
                case "model_patch":
                    foreach (var (modelKey, modelValue) in value!.AsObject())
                    {
                        json["model"]![modelKey] = modelValue?.DeepClone();
                    }
                    break;
                case "vocab_append":
                    foreach (var item in value!.AsArray())
                    {
                        json["model"]!["vocab"]!.AsArray().Add(item?.DeepClone());
                    }
                    break;
                case "added_tokens_append":
                    foreach (var item in value!.AsArray())
                    {
                        json["added_tokens"]!.AsArray().Add(item?.DeepClone());
                    }
                    break;
                default:
                    json[key] = value?.DeepClone();
                    break;
            }
        }
        return json.ToJsonString();
    }

    private static TruncationOptions? ReadTruncation(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        return new TruncationOptions
        {
            MaxLength = element.GetProperty("max_length").GetInt32(),
            Stride = element.GetProperty("stride").GetInt32(),
            Strategy = element.GetProperty("strategy").GetString() switch
            {
                "only_first" => TruncationStrategy.OnlyFirst,
                "only_second" => TruncationStrategy.OnlySecond,
                _ => TruncationStrategy.LongestFirst,
            },
            Direction = element.GetProperty("direction").GetString() == "left"
                ? TruncationDirection.Left
                : TruncationDirection.Right,
        };
    }

    private static void Compare(JsonElement expected, EncodedText actual, string where, List<string> differences)
    {
        Check("ids", expected.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()), actual.Ids);
        Check("type_ids", expected.GetProperty("type_ids").EnumerateArray().Select(e => e.GetInt32()), actual.TypeIds);
        Check("tokens", expected.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()!), actual.Tokens);
        Check("offsets", expected.GetProperty("offsets").EnumerateArray().Select(e => (e[0].GetInt32(), e[1].GetInt32())),
            actual.Offsets.Select(r => (r.Start.Value, r.End.Value)));
        Check("special_tokens_mask", expected.GetProperty("special_tokens_mask").EnumerateArray().Select(e => e.GetInt32()),
            actual.SpecialTokensMask);
        Check("word_ids", expected.GetProperty("word_ids").EnumerateArray().Select(NullableInt), actual.WordIds);
        Check("sequence_ids", expected.GetProperty("sequence_ids").EnumerateArray().Select(NullableInt), actual.SequenceIds);

        var overflowing = expected.GetProperty("overflowing");
        if (overflowing.GetArrayLength() != actual.Overflowing.Count)
        {
            differences.Add($"{where}overflowing: {actual.Overflowing.Count} windows vs HF {overflowing.GetArrayLength()}");
            return;
        }
        var i = 0;
        foreach (var window in overflowing.EnumerateArray())
        {
            Compare(window, actual.Overflowing[i], $"{where}overflowing[{i}].", differences);
            i++;
        }

        void Check<T>(string field, IEnumerable<T> hf, IEnumerable<T> riverbed)
        {
            var hfList = hf.ToList();
            var ours = riverbed.ToList();
            if (!hfList.SequenceEqual(ours))
            {
                differences.Add($"{where}{field}: [{string.Join(", ", ours)}] vs HF [{string.Join(", ", hfList)}]");
            }
        }
    }

    private static int? NullableInt(JsonElement element) =>
        element.ValueKind == JsonValueKind.Null ? null : element.GetInt32();
}
