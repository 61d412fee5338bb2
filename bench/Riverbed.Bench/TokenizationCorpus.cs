using System.Collections.Concurrent;
using System.Text.Json;
using Riverbed.Tokenization;

namespace Riverbed.Bench;

/// <summary>
/// The tokenization benchmark corpus: real instruction/chat texts from ../shared/fixtures/datasets (HaluEval queries
/// and ChatGPT responses, Alpaca instructions, inputs and outputs, ShareGPT turns), in file order — the same texts
/// bench/hf-tokenizers/corpus.js gives HF's tokenizers.
/// </summary>
internal static class TokenizationCorpus
{
    private static readonly Lazy<string[]> Texts = new(Load);
    private static readonly ConcurrentDictionary<string, long> TokenCounts = new();

    public static string[] All => Texts.Value;

    public static Tokenizer LoadTokenizer(string name) =>
        Tokenizer.FromFile(Path.Combine(SharedFolder(), "fixtures", "tokenizers", name, "tokenizer.json"));

    /// <summary>Tokens in the corpus for a tokenizer, special tokens included (what the benchmarks encode).</summary>
    public static long TokenCount(string tokenizer) => TokenCounts.GetOrAdd(tokenizer, name =>
    {
        var model = LoadTokenizer(name);
        return All.Sum(text => (long)model.Encode(text).Length);
    });

    private static string[] Load()
    {
        var folder = Path.Combine(SharedFolder(), "fixtures", "datasets");
        var texts = new List<string>();
        void Add(JsonElement row, string name)
        {
            if (row.TryGetProperty(name, out var value) && value.GetString() is { Length: > 0 } text)
            {
                texts.Add(text);
            }
        }
        foreach (var line in File.ReadLines(Path.Combine(folder, "halueval", "general_data.json")))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            using var row = JsonDocument.Parse(line);
            Add(row.RootElement, "user_query");
            Add(row.RootElement, "chatgpt_response");
        }
        using (var alpaca = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "alpaca", "alpaca_data_first2000.json"))))
        {
            foreach (var row in alpaca.RootElement.EnumerateArray())
            {
                Add(row, "instruction");
                Add(row, "input");
                Add(row, "output");
            }
        }
        using (var sharegpt = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "fastchat-sharegpt", "dummy_conversation.json"))))
        {
            foreach (var conversation in sharegpt.RootElement.EnumerateArray())
            {
                foreach (var turn in conversation.GetProperty("conversations").EnumerateArray())
                {
                    Add(turn, "value");
                }
            }
        }
        return [.. texts];
    }

    private static string SharedFolder()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("RIVERBED_SHARED_DIR");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Riverbed.sln")))
            {
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
            }
        }
        throw new DirectoryNotFoundException("No Riverbed.sln above the benchmark; set RIVERBED_SHARED_DIR.");
    }
}
