using FsCheck;
using FsCheck.Fluent;
using Riverbed.Tokenization;

namespace Riverbed.Core.Tests.Tokenization;

/// <summary>Hand-written cases around the golden files: hostile and odd input, the span API, batches, vocabulary facts.</summary>
public sealed class TokenizerBehaviorTests
{
    [Theory]
    [MemberData(nameof(Fixtures.All), MemberType = typeof(Fixtures))]
    public void A_lone_surrogate_is_read_as_the_replacement_character_and_keeps_its_own_offsets(string name)
    {
        var tokenizer = Fixtures.Get(name);
        foreach (var (withSurrogate, withReplacement) in new[]
        {
            ("a\uD800b", "a\uFFFDb"),
            ("x \uDC00 y", "x \uFFFD y"),
            ("end\uD83E", "end\uFFFD"),
            ("\uDE00\uD83D", "\uFFFD\uFFFD"),
        })
        {
            var actual = tokenizer.Encode(withSurrogate);
            var expected = tokenizer.Encode(withReplacement);
            Assert.Equal(expected.Ids.ToArray(), actual.Ids.ToArray());
            Assert.Equal(expected.Tokens.ToArray(), actual.Tokens.ToArray());
            Assert.Equal(expected.Offsets.ToArray(), actual.Offsets.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures.All), MemberType = typeof(Fixtures))]
    public void Any_text_encodes_with_offsets_inside_the_text(string name)
    {
        var tokenizer = Fixtures.Get(name);
        var alphabet = "aZ9 .,'\t\n\r\u0000\u0007\u001b\u007f\u0085\u00a0\u00ad\u0301\u0323é\u0130ß\u200b\u200d\u2028\u3000中\uFEFF\uFFFD\uD800\uDC00\uD83E\uDD16[MASK]<mask>".ToCharArray();
        var texts = Gen.ArrayOf(Gen.Elements(alphabet)).Select(chars => new string(chars));
        Prop.ForAll(texts.ToArbitrary(), text =>
        {
            var encoding = tokenizer.Encode(text, text, EncodeOptions.Default);
            for (var i = 0; i < encoding.Length; i++)
            {
                var (start, end) = (encoding.Offsets[i].Start.Value, encoding.Offsets[i].End.Value);
                if (start < 0 || end < start || end > text.Length)
                {
                    return false;
                }
            }
            return encoding.Ids.All(id => id >= 0 && id < tokenizer.VocabularySize);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Control_characters_are_dropped_by_BERT_and_kept_as_bytes_by_byte_level_BPE()
    {
        const string Text = "a\u0000b\u0007c";
        Assert.Equal(["[CLS]", "abc", "[SEP]"], Fixtures.Bert.Encode(Text).Tokens.ToArray());
        var gpt2 = Fixtures.Gpt2.Encode(Text);
        Assert.Equal(Text, Fixtures.Gpt2.Decode(gpt2.Ids.AsSpan()));
    }

    [Theory]
    [MemberData(nameof(Fixtures.All), MemberType = typeof(Fixtures))]
    public void Empty_text_gives_only_the_inserted_special_tokens(string name)
    {
        var tokenizer = Fixtures.Get(name);
        var encoding = tokenizer.Encode(string.Empty);
        Assert.All(encoding.SpecialTokensMask, bit => Assert.Equal(1, bit));
        Assert.Equal(0, tokenizer.EncodeToIds(string.Empty, Span<long>.Empty, Span<long>.Empty, Span<long>.Empty,
            new EncodeOptions { AddSpecialTokens = false }));
    }

    [Fact]
    public void A_word_longer_than_max_input_chars_per_word_is_one_unknown_token_whatever_its_length()
    {
        var huge = new string('x', 1_000_000);
        var encoding = Fixtures.Bert.Encode($"small {huge} word");
        Assert.Equal(["[CLS]", "small", "[UNK]", "word", "[SEP]"], encoding.Tokens.ToArray());
        Assert.Equal(6..(6 + huge.Length), encoding.Offsets[2]);
    }

    [Fact]
    public void Text_longer_than_the_input_limit_is_refused_with_the_limit_named()
    {
        var tokenizer = Tokenizer.FromFile(Fixtures.JsonPath("gpt2"), new TokenizerOptions { MaxInputLength = 1000 });
        var error = Assert.Throws<TokenizationException>(() => tokenizer.Encode(new string('a', 1001)));
        Assert.Contains("MaxInputLength", error.Message, StringComparison.Ordinal);
        Assert.Equal(1000, tokenizer.Encode(new string(' ', 999) + "a").Offsets[^1].End.Value);
    }

    [Fact]
    public void A_long_byte_level_word_is_merged_exactly_like_short_ones()
    {
        // 100,000 repeated letters: merged in n log n, the same pieces as ten 10,000-letter words would give.
        var encoding = Fixtures.Gpt2.Encode(new string('a', 100_000));
        Assert.Equal(25_000, encoding.Length);
        Assert.All(encoding.Tokens, token => Assert.Equal("aaaa", token));
    }

    [Fact]
    public async Task A_split_regex_that_backtracks_catastrophically_runs_in_linear_time()
    {
        var tokenizer = Tokenizer.FromJson(WithSplitRegex("(a+)+$"));
        var text = new string('a', 5000) + "!";
        // A backtracking engine would need about 2^5000 steps; the timeout only guards the test run.
        var encoding = await Task.Run(() => tokenizer.Encode(text)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEmpty(encoding.Ids);
    }

    [Fact]
    public void A_regex_that_needs_backtracking_stops_at_its_time_limit_with_the_pattern_named()
    {
        var tokenizer = Tokenizer.FromJson(WithSplitRegex("(a|aa)+(?=b)"),
            new TokenizerOptions { RegexTimeout = TimeSpan.FromMilliseconds(50) });
        var error = Assert.Throws<TokenizationException>(() => tokenizer.Encode(new string('a', 60)));
        Assert.Contains("(a|aa)+(?=b)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Fixtures.All), MemberType = typeof(Fixtures))]
    public void EncodeToIds_writes_what_Encode_returns(string name)
    {
        var tokenizer = Fixtures.Get(name);
        const string Text = "The capital of France is [MASK] <mask>, isn't it? Café 🤖";
        const string Pair = "Yes: Paris.";
        var options = new EncodeOptions { Truncation = new TruncationOptions { MaxLength = 12 } };
        var expected = tokenizer.Encode(Text, Pair, options);
        var ids = new long[64];
        var typeIds = new long[64];
        var mask = new long[64];
        var written = tokenizer.EncodeToIds(Text, Pair, ids, typeIds, mask, options);
        Assert.Equal(expected.Length, written);
        Assert.Equal(expected.Ids.Select(i => (long)i), ids[..written]);
        Assert.Equal(expected.TypeIds.Select(i => (long)i), typeIds[..written]);
        Assert.All(mask[..written], m => Assert.Equal(1, m));

        var ids32 = new int[64];
        var typeIds32 = new int[64];
        var mask32 = new int[64];
        Assert.Equal(written, tokenizer.EncodeToIds(Text, ids32, typeIds32, mask32) > 0
            ? tokenizer.EncodeToIds(Text, Pair, ids32, typeIds32, mask32, options)
            : -1);
        Assert.Equal(expected.Ids.ToArray(), ids32[..written]);

        var single = tokenizer.Encode(Text);
        Assert.Equal(single.Length, tokenizer.EncodeToIds(Text, ids, typeIds, mask));
    }

    [Fact]
    public void EncodeToIds_refuses_a_buffer_that_is_too_short_and_says_how_long_it_must_be()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Fixtures.Bert.EncodeToIds("one two three", new long[3], new long[10], new long[10]));
        Assert.Contains("5 tokens", error.Message, StringComparison.Ordinal);
        Assert.Contains("room for 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Right_truncation_of_a_long_text_keeps_exactly_the_tokens_a_full_encode_keeps()
    {
        var text = string.Join(' ', Enumerable.Range(0, 3000).Select(i => $"word{i}"));
        foreach (var name in Fixtures.Names)
        {
            var tokenizer = Fixtures.Get(name);
            var options = new EncodeOptions { Truncation = new TruncationOptions { MaxLength = 64 } };
            var full = tokenizer.Encode(text, options); // computes every window, so it tokenizes everything
            var ids = new long[64];
            var written = tokenizer.EncodeToIds(text, ids, new long[64], new long[64], options);
            Assert.Equal(full.Ids.Select(i => (long)i), ids[..written]);
            Assert.NotEmpty(full.Overflowing);
        }
    }

    [Fact]
    public void Left_truncation_keeps_the_most_recent_context()
    {
        var text = "first second third fourth fifth sixth seventh";
        var options = new EncodeOptions
        {
            Truncation = new TruncationOptions { MaxLength = 5, Direction = TruncationDirection.Left },
        };
        var encoding = Fixtures.Bert.Encode(text, options);
        Assert.Equal(["[CLS]", "fifth", "sixth", "seventh", "[SEP]"], encoding.Tokens.ToArray());
        // The windows cut off run backwards from there, as HF's: [second third fourth], then [first].
        Assert.Equal(["[CLS]", "second", "third", "fourth", "[SEP]"], encoding.Overflowing[0].Tokens.ToArray());
        Assert.Equal(["[CLS]", "first", "[SEP]"], encoding.Overflowing[1].Tokens.ToArray());
    }

    [Fact]
    public void Truncation_shorter_than_the_special_tokens_is_refused()
    {
        var error = Assert.Throws<TokenizationException>(() =>
            Fixtures.Roberta.Encode("a b", "c", new EncodeOptions { Truncation = new TruncationOptions { MaxLength = 3 } }));
        Assert.Contains("4 special tokens", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pair_is_offset_into_its_own_string()
    {
        const string Premise = "The cat sat on the mat.";
        const string Hypothesis = "A cat is sitting.";
        foreach (var name in Fixtures.Names)
        {
            var encoding = Fixtures.Get(name).Encode(Premise, Hypothesis);
            var sawSecond = false;
            for (var i = 0; i < encoding.Length; i++)
            {
                if (encoding.SequenceIds[i] is not { } sequence)
                {
                    continue;
                }
                var source = sequence == 0 ? Premise : Hypothesis;
                sawSecond |= sequence == 1;
                var piece = source[encoding.Offsets[i]];
                Assert.False(string.IsNullOrWhiteSpace(piece) && encoding.Tokens[i].Trim('Ġ', '▁').Length > 0,
                    $"{name}: token {encoding.Tokens[i]} covers '{piece}'");
            }
            Assert.True(sawSecond, name);
        }
    }

    [Fact]
    public void Batches_encode_in_parallel_to_exactly_the_sequential_results()
    {
        var texts = Enumerable.Range(0, 400)
            .Select(i => $"Text {i}: the quick brown fox {new string('x', i % 37)} jumps ({i * 7919 % 1000}) 🤖 déjà vu")
            .ToList();
        foreach (var name in Fixtures.Names)
        {
            var tokenizer = Fixtures.Get(name);
            var batch = tokenizer.EncodeBatch(texts);
            var pairs = tokenizer.EncodeBatch(texts.Select(t => (t, (string?)t[..5])).ToList());
            for (var i = 0; i < texts.Count; i++)
            {
                Assert.Equal(tokenizer.Encode(texts[i]).Ids.ToArray(), batch[i].Ids.ToArray());
                Assert.Equal(tokenizer.Encode(texts[i], texts[i][..5]).Ids.ToArray(), pairs[i].Ids.ToArray());
            }
        }
    }

    [Theory]
    [InlineData("bert-base-uncased", 30522, 103, "[MASK]", 0)]
    [InlineData("electra-base-discriminator", 30522, 103, "[MASK]", 0)]
    [InlineData("roberta-base", 50265, 50264, "<mask>", 1)]
    [InlineData("deberta-v3-style-unigram", 8001, 8000, "[MASK]", 0)]
    [InlineData("gpt2", 50257, null, null, null)]
    public void Vocabulary_facts_come_from_the_added_tokens(string name, int size, int? maskId, string? mask, int? padId)
    {
        var tokenizer = Fixtures.Get(name);
        Assert.Equal(size, tokenizer.VocabularySize);
        Assert.Equal(maskId, tokenizer.MaskTokenId);
        Assert.Equal(mask, tokenizer.MaskToken);
        Assert.Equal(padId, tokenizer.PadTokenId);
        if (maskId is { } id)
        {
            Assert.True(tokenizer.IsSpecialToken(id));
            Assert.Equal(mask, tokenizer.IdToToken(id));
            Assert.Equal(id, tokenizer.TokenToId(mask!));
            Assert.False(tokenizer.StartsWord(id));
        }
        Assert.Null(tokenizer.TokenToId("no-such-token-anywhere"));
        Assert.Null(tokenizer.IdToToken(size + 10));
    }

    [Theory]
    [InlineData("roberta-base", "Ġsmall", true, "small")]
    [InlineData("roberta-base", "small", false, "small")]
    [InlineData("gpt2", "Ġcafé", null, null)]
    [InlineData("bert-base-uncased", "small", true, "small")]
    [InlineData("bert-base-uncased", "##s", false, "s")]
    [InlineData("deberta-v3-style-unigram", "▁the", true, "the")]
    [InlineData("deberta-v3-style-unigram", "s", false, "s")]
    public void Pieces_know_whether_they_start_a_word_and_decode_without_their_marker(string name, string token,
        bool? startsWord, string? text)
    {
        var tokenizer = Fixtures.Get(name);
        var id = tokenizer.TokenToId(token);
        if (startsWord is null)
        {
            Assert.Null(id); // byte-level vocabularies spell é as two byte characters
            var encoding = tokenizer.Encode(" café");
            Assert.True(tokenizer.StartsWord(encoding.Ids[0]));
            Assert.Equal("café", string.Concat(encoding.Ids.Select(tokenizer.DecodeToken)));
            return;
        }
        Assert.NotNull(id);
        Assert.Equal(startsWord, tokenizer.StartsWord(id.Value));
        Assert.Equal(text, tokenizer.DecodeToken(id.Value));
        Assert.False(tokenizer.IsSpecialToken(id.Value));
    }

    [Fact]
    public void Decode_can_keep_or_skip_special_tokens()
    {
        var ids = Fixtures.Bert.Encode("Hello world").Ids.ToArray();
        Assert.Equal("hello world", Fixtures.Bert.Decode(ids));
        Assert.Equal("[CLS] hello world [SEP]", Fixtures.Bert.Decode(ids, skipSpecialTokens: false));
        Assert.Equal("hello", Fixtures.Bert.Decode([7592, 999_999]));
    }

    private static string WithSplitRegex(string pattern) =>
        $$"""
        {
          "version": "1.0",
          "added_tokens": [],
          "normalizer": null,
          "pre_tokenizer": {"type": "Split", "pattern": {"Regex": {{System.Text.Json.JsonSerializer.Serialize(pattern)}}}, "behavior": "Isolated", "invert": false},
          "post_processor": null,
          "decoder": null,
          "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "a": 1}, "unk_token": "[UNK]"}
        }
        """;
}
