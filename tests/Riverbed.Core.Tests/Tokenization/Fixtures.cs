using System.Collections.Concurrent;
using Riverbed.Tokenization;

namespace Riverbed.Core.Tests.Tokenization;

/// <summary>The shared fixture tokenizers, loaded once per test run (a tokenizer is immutable and thread-safe).</summary>
internal static class Fixtures
{
    private static readonly ConcurrentDictionary<string, Lazy<Tokenizer>> Loaded = new();

    public static readonly string[] Names =
        ["bert-base-uncased", "electra-base-discriminator", "gpt2", "roberta-base", "deberta-v3-style-unigram"];

    public static Tokenizer Bert => Get("bert-base-uncased");

    public static Tokenizer Gpt2 => Get("gpt2");

    public static Tokenizer Roberta => Get("roberta-base");

    public static Tokenizer Deberta => Get("deberta-v3-style-unigram");

    public static Tokenizer Get(string name) =>
        Loaded.GetOrAdd(name, n => new Lazy<Tokenizer>(() => Tokenizer.FromFile(JsonPath(n)))).Value;

    public static string JsonPath(string name) => TestPaths.Fixture("tokenizers", name, "tokenizer.json");

    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (var name in Names)
        {
            data.Add(name);
        }
        return data;
    }
}
