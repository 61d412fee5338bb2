using Riverbed.Tokenization;

namespace Riverbed.Core.Tests.Tokenization;

/// <summary>Compose wraps already-tokenized ids exactly as Encode wraps the same text.</summary>
public sealed class ComposeTests
{
    private static readonly EncodeOptions Bare = new() { AddSpecialTokens = false };

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var name in Fixtures.Names)
        {
            data.Add(name, "Where was Obama born?", "He was born in Honolulu, Hawaii in 1961.");
            data.Add(name, "", "Only the second sequence.");
            data.Add(name, "Only the first.", "");
            data.Add(name, "", "");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_composed_pair_equals_the_encoded_pair(string tokenizerName, string first, string second)
    {
        var tokenizer = Fixtures.Get(tokenizerName);
        var a = tokenizer.Encode(first, Bare);
        var b = tokenizer.Encode(second, Bare);

        var composed = tokenizer.Compose(a.Ids.AsSpan(), b.Ids.AsSpan());
        var encoded = tokenizer.Encode(first, second);

        Assert.Equal(encoded.Ids.ToArray(), composed.Ids);
        Assert.Equal(encoded.TypeIds.ToArray(), composed.TypeIds);
        Assert.Equal(a.Length == 0 ? -1 : encoded.SequenceIds.IndexOf(0), composed.FirstStart);
        Assert.Equal(b.Length == 0 ? -1 : encoded.SequenceIds.IndexOf(1), composed.SecondStart);

        var single = tokenizer.Compose(a.Ids.AsSpan());
        Assert.Equal(tokenizer.Encode(first).Ids.ToArray(), single.Ids);
        Assert.Equal(tokenizer.Encode(first).TypeIds.ToArray(), single.TypeIds);
    }

    [Fact]
    public void A_window_of_tokens_is_wrapped_without_re_tokenizing_its_edges()
    {
        var tokenizer = Fixtures.Roberta;
        var ids = tokenizer.Encode("The fluffy cat sat on the mat.", Bare).Ids;

        var window = tokenizer.Compose([], ids.AsSpan(1, 3));

        Assert.Equal([0, 2, 2, .. ids.AsSpan(1, 3), 2], window.Ids);
        Assert.Equal(3, window.SecondStart);
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Compose([tokenizer.VocabularySize + 5]));
    }
}
