using System.Text.Json;

namespace Riverbed.Core.Tests.ModelKit;

/// <summary>Token → id lookups in a fixture tokenizer.json, so oracle tests speak in real ids of real words.</summary>
internal sealed class FixtureVocabulary
{
    private static readonly Dictionary<string, FixtureVocabulary> Cache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    private FixtureVocabulary(string name)
    {
        Path = TestPaths.Fixture("tokenizers", name, "tokenizer.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path));
        foreach (var entry in document.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject())
        {
            _ids[entry.Name] = entry.Value.GetInt32();
        }
        foreach (var token in document.RootElement.GetProperty("added_tokens").EnumerateArray())
        {
            _ids[token.GetProperty("content").GetString()!] = token.GetProperty("id").GetInt32();
        }
    }

    public string Path { get; }

    public static FixtureVocabulary Bert => Get("bert-base-uncased");

    public static FixtureVocabulary Roberta => Get("roberta-base");

    /// <summary>The id of a token, spelled as in the vocabulary ("Ġsmall" for RoBERTa's word-initial pieces).</summary>
    public int this[string token] => _ids.TryGetValue(token, out var id) ? id : throw new KeyNotFoundException($"'{token}' is not in {Path}");

    private static FixtureVocabulary Get(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var vocabulary))
            {
                vocabulary = new FixtureVocabulary(name);
                Cache.Add(name, vocabulary);
            }
            return vocabulary;
        }
    }
}
