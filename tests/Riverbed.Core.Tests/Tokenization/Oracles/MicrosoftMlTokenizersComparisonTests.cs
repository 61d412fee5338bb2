using Microsoft.ML.Tokenizers;
using Riverbed.Tokenization;
using Xunit.Abstractions;

namespace Riverbed.Core.Tests.Tokenization.Oracles;

/// <summary>
/// Why Riverbed keeps its own tokenizer.json implementation (Tokenization/README.md): Microsoft.ML.Tokenizers 3.0 measured
/// on the shared golden cases (single texts, no truncation) against HF's Rust encodings, beside Riverbed on the same
/// cases. The figures are written to the test output; the assertions pin the differences the README states.
/// </summary>
public sealed class MicrosoftMlTokenizersComparisonTests(ITestOutputHelper output)
{
    [Fact]
    public void Ml_tokenizers_loads_a_tokenizer_json_only_for_the_unigram_model()
    {
        var loaded = new List<string>();
        foreach (var name in Fixtures.Names)
        {
            using var stream = File.OpenRead(Fixtures.JsonPath(name));
            try
            {
                SentencePieceTokenizer.CreateFromTokenizerJson(stream, false, false, null);
                loaded.Add(name);
            }
            catch (Exception error) when (error is InvalidDataException or ArgumentException or NotSupportedException or InvalidOperationException or FormatException or System.Text.Json.JsonException)
            {
                output.WriteLine($"{name}: {error.GetType().Name}: {error.Message}");
            }
        }
        Assert.Equal(["deberta-v3-style-unigram"], loaded);
    }

    [Fact]
    public void Bert_wordpiece_ml_tokenizers_drops_symbols_that_riverbed_and_hf_keep()
    {
        var ml = BertTokenizer.Create(TestPaths.Fixture("tokenizers", "bert-base-uncased", "vocab.txt"), new BertOptions());
        var measured = Measure("bert-base-uncased", golden => [.. ml.EncodeToIds(golden.Text, golden.AddSpecialTokens, true, true)], null);
        Assert.Equal(1.0, measured.Riverbed);
        Assert.True(measured.MlIds < 1.0);

        // OIG's turn marker: HF gives '<', 'human', '>', ':'; ML.NET loses the angle brackets. Likewise '=' and '+',
        // and an emoji, which HF keeps as [UNK] (so positions still line up with the text).
        foreach (var (text, expected) in new[] { ("<human>: hi", "< human > : hi"), ("a = b + c 😀", "a = b + c [UNK]") })
        {
            var hf = string.Join(" ", Fixtures.Bert.Encode(text, null, new EncodeOptions { AddSpecialTokens = false }).Tokens);
            var mlTokens = ml.EncodeToTokens(text, out _).Select(token => token.Value).ToArray();
            output.WriteLine($"'{text}': HF/Riverbed [{hf}], ML.NET [{string.Join(" ", mlTokens)}]");
            Assert.Equal(expected, hf);
            Assert.True(mlTokens.Length < expected.Split(' ').Length, $"ML.NET kept every token of '{text}'");
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("roberta-base")]
    public void Byte_level_bpe_ml_tokenizers_offsets_differ_from_hf(string name)
    {
        var folder = TestPaths.Fixture("tokenizers", name);
        using var vocab = File.OpenRead(Path.Combine(folder, "vocab.json"));
        using var merges = File.OpenRead(Path.Combine(folder, "merges.txt"));
        var ml = CodeGenTokenizer.Create(vocab, merges, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
        var specials = name == "roberta-base";
        var measured = Measure(name,
            golden => [.. ml.EncodeToIds(golden.Text, false, false, false, true, true)],
            golden => [.. ml.EncodeToTokens(golden.Text, false, false, false, out _, true, true).Select(token => (token.Offset.Start.Value, token.Offset.End.Value))],
            stripSpecials: specials);
        Assert.Equal(1.0, measured.Riverbed);
        Assert.True(measured.MlOffsets < 1.0);
    }

    [Fact]
    public void Unigram_ml_tokenizers_ids_differ_from_hf()
    {
        using var json = File.OpenRead(Fixtures.JsonPath("deberta-v3-style-unigram"));
        var ml = SentencePieceTokenizer.CreateFromTokenizerJson(json, false, false, null);
        var measured = Measure("deberta-v3-style-unigram", golden => [.. ml.EncodeToIds(golden.Text, false, false, true, true)], null, stripSpecials: true);
        Assert.Equal(1.0, measured.Riverbed);
        Assert.True(measured.MlIds < 1.0);
    }

    private (double Riverbed, double MlIds, double MlOffsets) Measure(
        string name, Func<GoldenCase, int[]> mlIds, Func<GoldenCase, (int, int)[]>? mlOffsets, bool stripSpecials = false)
    {
        var riverbed = Fixtures.Get(name);
        var cases = GoldenCase.Read(TestPaths.Fixture("tokenizers", name, "golden.jsonl"))
            .Where(golden => golden.Pair is null && golden.Truncation is null)
            .ToList();
        int riverbedSame = 0, mlSame = 0, mlOffsetsSame = 0, mlRefused = 0;
        foreach (var golden in cases)
        {
            var encoded = riverbed.Encode(golden.Text, null, new EncodeOptions { AddSpecialTokens = golden.AddSpecialTokens });
            if (encoded.Ids.SequenceEqual(golden.Ids))
            {
                riverbedSame++;
            }
            // Where ML.NET adds no special tokens of its own, compare with the content tokens of the HF encoding.
            var inner = stripSpecials && golden.AddSpecialTokens ? golden.SpecialTokensMask.Select((mask, i) => (mask, i)).Where(x => x.mask == 0).Select(x => x.i).ToArray()
                : [.. Enumerable.Range(0, golden.Ids.Length)];
            try
            {
                if (mlIds(golden).SequenceEqual(inner.Select(i => golden.Ids[i])))
                {
                    mlSame++;
                }
                if (mlOffsets is not null && mlOffsets(golden).SequenceEqual(inner.Select(i => golden.Offsets[i])))
                {
                    mlOffsetsSame++;
                }
            }
            catch (ArgumentException)
            {
                // ML.NET refuses some texts outright (e.g. "String contains invalid Unicode code points"): a disagreement.
                mlRefused++;
            }
        }
        var result = (Rate(riverbedSame), Rate(mlSame), Rate(mlOffsetsSame));
        output.WriteLine($"{name}: {cases.Count} golden cases; Riverbed ids {riverbedSame} ({result.Item1:P1}); " +
            $"ML.NET ids {mlSame} ({result.Item2:P1})" + (mlOffsets is null ? string.Empty : $", ML.NET offsets {mlOffsetsSame} ({result.Item3:P1})") +
            $"; ML.NET refused {mlRefused} texts");
        return result;

        double Rate(int same) => (double)same / cases.Count;
    }
}
