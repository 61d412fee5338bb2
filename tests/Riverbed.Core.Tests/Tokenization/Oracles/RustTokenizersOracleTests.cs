using Riverbed.Tokenization;
using Xunit.Abstractions;
using RustTokenizer = Tokenizers.DotNet.Tokenizer;

namespace Riverbed.Core.Tests.Tokenization.Oracles;

/// <summary>
/// A second oracle beside the golden files: HF's Rust tokenizers, run in-process through Tokenizers.DotNet. On thousands
/// of texts from the shared datasets and of random Unicode, Riverbed's ids must equal the Rust ids for every shared
/// tokenizer (with special tokens added, as Tokenizers.DotNet's Encode does).
/// </summary>
[Trait("Category", "Slow")]
public sealed class RustTokenizersOracleTests(ITestOutputHelper output)
{
    private const int DatasetTexts = 2500;
    private const int RandomTexts = 1500;

    private static readonly Lazy<IReadOnlyList<string>> Texts = new(() =>
        [.. OracleTexts.FromDatasets(DatasetTexts), .. OracleTexts.RandomUnicode(RandomTexts, seed: 13)]);

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void Riverbed_ids_equal_the_rust_ids_on_dataset_texts_and_random_unicode(string name)
    {
        var riverbed = Fixtures.Get(name);
        using var rust = new RustTokenizer(Fixtures.JsonPath(name));
        var texts = Texts.Value;
        Assert.True(texts.Count >= 3500, $"only {texts.Count} texts were gathered");

        var failures = new List<string>();
        foreach (var text in texts)
        {
            var expected = rust.Encode(text);
            var actual = riverbed.Encode(text, null, new EncodeOptions { AddSpecialTokens = true }).Ids;
            if (!expected.Select(id => (int)id).SequenceEqual(actual))
            {
                failures.Add($"{Escape(text)}\n    rust     [{string.Join(",", expected)}]\n    riverbed [{string.Join(",", actual)}]");
            }
        }
        output.WriteLine($"{name}: {texts.Count - failures.Count} of {texts.Count} texts give the same ids as HF's Rust tokenizers");
        Assert.True(failures.Count == 0,
            $"{name}: {failures.Count} of {texts.Count} texts differ from HF's Rust tokenizers:\n" + string.Join("\n", failures.Take(10)));
    }

    [Fact]
    public void The_rust_oracle_agrees_with_the_golden_files_so_it_checks_the_same_thing()
    {
        // Guards the oracle itself: if Tokenizers.DotNet encoded differently (another crate version, no special
        // tokens), the comparison above would be against the wrong reference.
        using var rust = new RustTokenizer(Fixtures.JsonPath("roberta-base"));
        var cases = GoldenCase.Read(TestPaths.Fixture("tokenizers", "roberta-base", "golden.jsonl"))
            .Where(golden => golden.Pair is null && golden.AddSpecialTokens && golden.Truncation is null && !golden.Text.Contains('\0', StringComparison.Ordinal))
            .ToList();
        Assert.True(cases.Count > 500);
        var differing = cases.Where(golden => !rust.Encode(golden.Text).Select(id => (int)id).SequenceEqual(golden.Ids)).Select(golden => golden.Id).ToList();
        Assert.True(differing.Count == 0, $"Tokenizers.DotNet differs from the goldens on {string.Join(", ", differing.Take(20))}");
    }

    public static TheoryData<string> Tokenizers() => Fixtures.All();

    private static string Escape(string text) =>
        string.Concat(text.Take(200).Select(c => c < 0x20 || c is >= '\u007f' and <= '\u009f' ? $"\\u{(int)c:x4}" : c.ToString()));
}
