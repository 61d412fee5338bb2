using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Riverbed.Tokenization.Normalizers;
using Riverbed.Tokenization.PreTokenizers;
using Riverbed.Tokenization.Text;
using Riverbed.Tokenization.Unicode;

namespace Riverbed.Core.Tests.Tokenization;

/// <summary>
/// Every normalizer and pre-tokenizer treats every code point (planes 0-3, tags, samples of the private use planes:
/// 261,120 in all) exactly as HF's do — which pins the Unicode versions HF's dependencies use (9.0 normalization,
/// 8.0 categories for BERT, 17.0 lowercase and numbers). Golden/unicode-sweep.json holds one SHA-256 per behavior,
/// written by bench/hf-tokenizers/unicode-sweep.js; run it with --dump to see per-code-point results.
/// </summary>
public sealed class UnicodeSweepTests
{
    [Fact]
    public void Every_code_point_is_normalized_and_split_as_HF_does()
    {
        using var golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "tests",
            "Riverbed.Core.Tests", "Tokenization", "Golden", "unicode-sweep.json")));
        var deberta = JsonDocument.Parse(File.ReadAllText(Fixtures.JsonPath("deberta-v3-style-unigram")));
        var charsmap = Convert.FromBase64String(deberta.RootElement.GetProperty("normalizer").GetProperty("normalizers")[1]
            .GetProperty("precompiled_charsmap").GetString()!);

        var normalizers = new (string Name, Normalizer Normalizer)[]
        {
            ("bert", new BertNormalizer(true, true, true, true)),
            ("nfc", new UnicodeFormNormalizer(NormalizationKind.Nfc)),
            ("nfd", new UnicodeFormNormalizer(NormalizationKind.Nfd)),
            ("nfkc", new UnicodeFormNormalizer(NormalizationKind.Nfkc)),
            ("nfkd", new UnicodeFormNormalizer(NormalizationKind.Nfkd)),
            ("lowercase", new LowercaseNormalizer()),
            ("strip-accents", new StripAccentsNormalizer()),
            ("precompiled", PrecompiledNormalizer.TryCreate(charsmap, out _)!),
        };
        var preTokenizers = new (string Name, PreTokenizer PreTokenizer, string Before, string After)[]
        {
            ("bert-pre-tokenizer", new BertPreTokenizer(), "a", "a"),
            ("byte-level", new ByteLevelPreTokenizer(false, true), "a", "a"),
            ("byte-level-after-space", new ByteLevelPreTokenizer(false, true), " ", "1"),
            ("whitespace", new WhitespacePreTokenizer(), "a", "a"),
            ("digits", new DigitsPreTokenizer(true), "a", "a"),
            ("punctuation", new PunctuationPreTokenizer(SplitBehavior.Isolated), "a", "a"),
        };
        var hashes = normalizers.Select(_ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            .Concat(preTokenizers.Select(_ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256))).ToArray();

        var slice = new NormalizedSlice();
        var pieces = new PreTokenizedText();
        var starts = new int[2];
        var ends = new int[] { 1, 1 };
        var line = new StringBuilder();
        var count = 0;
        foreach (var range in golden.RootElement.GetProperty("ranges").EnumerateArray())
        {
            for (var cp = range[0].GetInt32(); cp <= range[1].GetInt32(); cp++)
            {
                var c = char.ConvertFromUtf32(cp);
                var hex = cp.ToString("x", CultureInfo.InvariantCulture);
                for (var n = 0; n < normalizers.Length; n++)
                {
                    slice.Load(c, starts.AsSpan(0, c.Length), ends.AsSpan(0, c.Length), 0);
                    normalizers[n].Normalizer.Normalize(slice);
                    line.Clear().Append(hex).Append(':');
                    var first = true;
                    for (var i = 0; i < slice.Chars.Length;)
                    {
                        line.Append(first ? "" : " ").Append(CodePoints.Read(slice.Chars, ref i).ToString("x", CultureInfo.InvariantCulture));
                        first = false;
                    }
                    hashes[n].AppendData(Encoding.UTF8.GetBytes(line.Append('\n').ToString()));
                }
                for (var p = 0; p < preTokenizers.Length; p++)
                {
                    var (_, preTokenizer, before, after) = preTokenizers[p];
                    var probe = before + c + after;
                    pieces.Reset(probe);
                    preTokenizer.PreTokenize(pieces);
                    line.Clear().Append(hex).Append(':');
                    var splits = pieces.Splits;
                    for (var s = 0; s < splits.Length; s++)
                    {
                        var start = CodePoints.Count(probe.AsSpan(0, pieces.StartOf(splits[s].Offset)));
                        var end = CodePoints.Count(probe.AsSpan(0, pieces.EndOf(splits[s].Offset + splits[s].Length - 1)));
                        line.Append(s == 0 ? "" : ",").Append(start).Append('-').Append(end);
                    }
                    hashes[normalizers.Length + p].AppendData(Encoding.UTF8.GetBytes(line.Append('\n').ToString()));
                }
                count++;
            }
        }

        Assert.Equal(golden.RootElement.GetProperty("code_points").GetInt32(), count);
        var expected = golden.RootElement.GetProperty("sha256");
        var names = normalizers.Select(n => n.Name).Concat(preTokenizers.Select(p => p.Name)).ToArray();
        var differing = names.Where((name, i) =>
            Convert.ToHexStringLower(hashes[i].GetHashAndReset()) != expected.GetProperty(name).GetString()).ToList();
        Assert.True(differing.Count == 0,
            $"Behaviors that differ from HF on some code point: {string.Join(", ", differing)}. " +
            "Run `node bench/hf-tokenizers/unicode-sweep.js --dump sweep.tsv` to see HF's result per code point.");
    }
}
