using Riverbed.ModelKit;
using Riverbed.Tokenization;

namespace Riverbed.Core.Tests.ModelKit;

public sealed class SmallVocabularyTests
{
    private static readonly string[] Words = ["river", "Lisbon", "1987", "crosses"];

    [Fact]
    public void Its_tokenizer_json_keeps_the_words_whole_and_spells_any_other_ascii_word_by_characters()
    {
        using var scratch = new ScratchFolder("small-vocabulary");
        var path = scratch.File("tokenizer.json");
        File.WriteAllText(path, SmallVocabulary.TokenizerJson(Words));
        var tokenizer = Tokenizer.FromFile(path);

        var known = tokenizer.Encode("The river crosses Lisbon in 1987.");
        var unknown = tokenizer.Encode("zebra!");

        Assert.Equal(["[CLS]", "t", "##h", "##e", "river", "crosses", "lisbon", "i", "##n", "1987", ".", "[SEP]"], known.Tokens.ToArray());
        Assert.Equal(["[CLS]", "z", "##e", "##b", "##r", "##a", "!", "[SEP]"], unknown.Tokens.ToArray());
        Assert.DoesNotContain(tokenizer.TokenToId("[UNK]")!.Value, unknown.Ids.ToArray());
    }

    [Fact]
    public void It_holds_a_few_hundred_tokens_with_the_specials_first_as_the_oracles_profile_reads_them()
    {
        using var scratch = new ScratchFolder("small-vocabulary");
        var path = scratch.File("tokenizer.json");
        File.WriteAllText(path, SmallVocabulary.TokenizerJson(Words));

        var profile = TokenizerProfile.FromTokenizerJson(path);

        Assert.Equal(SmallVocabulary.Create(Words).Count, profile.VocabSize);
        Assert.InRange(profile.VocabSize, 100, 500);
        Assert.Equal((0, 2, 3, 4, EncoderFamily.Bert), (profile.PadId, profile.ClsId, profile.SeparatorId, profile.MaskId, profile.Family));
    }

    [Theory]
    [InlineData("")]
    [InlineData("well-known")]
    [InlineData("café")]
    public void A_word_that_the_pre_tokenizer_would_split_is_refused(string word)
    {
        var error = Assert.Throws<ArgumentException>(() => SmallVocabulary.Create([word]));

        Assert.StartsWith($"'{word}' is not a word of ASCII letters and digits", error.Message, StringComparison.Ordinal);
    }
}
