using Riverbed.Scoring;
using Riverbed.Tokenization;

namespace Riverbed.Core.Tests.Scoring;

public sealed class WholeWordVocabularyTests
{
    private static Tokenizer Bert { get; } = Tokenizer.FromFile(TestPaths.Fixture("tokenizers", "bert-base-uncased", "tokenizer.json"));

    private static Tokenizer Roberta { get; } = Tokenizer.FromFile(TestPaths.Fixture("tokenizers", "roberta-base", "tokenizer.json"));

    [Fact]
    public void Word_initial_pieces_are_candidates_and_continuations_are_not()
    {
        var bert = WholeWordVocabulary.For(Bert);
        Assert.True(bert.Contains(Bert.TokenToId("paris")!.Value));
        Assert.False(bert.Contains(Bert.TokenToId("##s")!.Value));

        var roberta = WholeWordVocabulary.For(Roberta);
        Assert.True(roberta.Contains(Roberta.TokenToId("Ġsmall")!.Value));
        Assert.False(roberta.Contains(Roberta.TokenToId("small")!.Value)); // no leading space: continues a word
    }

    [Fact]
    public void Specials_punctuation_and_vocabulary_placeholders_are_never_candidates()
    {
        var bert = WholeWordVocabulary.For(Bert);
        foreach (var token in new[] { "[MASK]", "[CLS]", "[unused7]", "[unused0]", "!", "," })
        {
            Assert.False(bert.Contains(Bert.TokenToId(token)!.Value), token);
        }
        var roberta = WholeWordVocabulary.For(Roberta);
        foreach (var token in new[] { "<mask>", "<s>", "Ġ!", "Ġ," })
        {
            Assert.False(roberta.Contains(Roberta.TokenToId(token)!.Value), token);
        }
    }

    [Fact]
    public void The_set_is_built_once_per_tokenizer()
    {
        Assert.Same(WholeWordVocabulary.For(Bert), WholeWordVocabulary.For(Bert));
        Assert.Equal(Bert.VocabularySize, WholeWordVocabulary.For(Bert).VocabularySize);
    }
}
