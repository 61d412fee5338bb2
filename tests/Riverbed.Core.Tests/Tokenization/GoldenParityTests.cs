using Riverbed.Tokenization;

namespace Riverbed.Core.Tests.Tokenization;

/// <summary>
/// Every case of every golden.jsonl (encodings by HF's Rust tokenizers 0.22.2) must be reproduced exactly: ids,
/// type ids, tokens, special-token mask, attention mask, UTF-16 offsets, word ids, sequence ids and decoded text.
/// A failure lists every mismatching case id.
/// </summary>
public sealed class GoldenParityTests
{
    [Theory]
    [InlineData("bert-base-uncased")]
    [InlineData("electra-base-discriminator")]
    [InlineData("gpt2")]
    [InlineData("roberta-base")]
    [InlineData("deberta-v3-style-unigram")]
    public void Every_golden_case_is_reproduced_exactly(string name)
    {
        var tokenizer = Tokenizer.FromFile(TestPaths.Fixture("tokenizers", name, "tokenizer.json"));
        var cases = GoldenCase.Read(TestPaths.Fixture("tokenizers", name, "golden.jsonl")).ToList();
        Assert.True(cases.Count >= 700, $"{name}: only {cases.Count} golden cases read");

        var failures = new List<string>();
        foreach (var golden in cases)
        {
            var options = new EncodeOptions { AddSpecialTokens = golden.AddSpecialTokens, Truncation = golden.Truncation };
            EncodedText actual;
            try
            {
                actual = tokenizer.Encode(golden.Text, golden.Pair, options);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                failures.Add($"{golden.Id}: threw {error.GetType().Name}: {error.Message}");
                continue;
            }
            var decoded = tokenizer.Decode(actual.Ids.AsSpan(), skipSpecialTokens: true);
            var differences = golden.Differences(actual, decoded).ToList();
            if (differences.Count > 0)
            {
                failures.Add($"{golden.Id}: {string.Join("; ", differences)}");
            }
        }
        Assert.True(failures.Count == 0,
            $"{name}: {failures.Count} of {cases.Count} cases differ from HF:\n" + string.Join("\n", failures.Take(40)));
    }
}
