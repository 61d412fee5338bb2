namespace Riverbed.Runner.Tests;

public sealed class TokenizerVocabularyTests : IDisposable
{
    private readonly ScratchFolder _scratch = new("tokenizer-vocabulary");

    public void Dispose() => _scratch.Dispose();

    private string Write(string json)
    {
        var path = _scratch.File($"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void The_size_is_the_largest_id_over_the_vocab_and_added_tokens_plus_one()
    {
        var path = Write("""{"added_tokens": [{"id": 7, "content": "<mask>"}], "model": {"type": "BPE", "vocab": {"a": 0, "b": 5, "c": 2}}}""");

        Assert.Equal(8, TokenizerVocabulary.Size(path));
    }

    [Fact]
    public void A_unigram_vocab_counts_its_entries()
    {
        var path = Write("""{"added_tokens": [], "model": {"type": "Unigram", "vocab": [["<unk>", 0.0], ["a", -1.5], ["b", -2.0]]}}""");

        Assert.Equal(3, TokenizerVocabulary.Size(path));
    }

    [Theory]
    [InlineData("bert-base-uncased", 30522)]
    [InlineData("roberta-base", 50265)]
    [InlineData("deberta-v3-style-unigram", 8001)] // 8,000 Unigram pieces and [MASK] added as id 8000
    public void Real_tokenizers_have_their_published_sizes(string name, int size)
    {
        Assert.Equal(size, TokenizerVocabulary.Size(TestPaths.Fixture("tokenizers", name, "tokenizer.json")));
    }

    [Fact]
    public void A_negative_id_is_named_with_its_token()
    {
        var error = Assert.Throws<RiverbedException>(() => TokenizerVocabulary.Size(Write("""{"model": {"vocab": {"a": 0, "b": -3}}}""")));

        Assert.Contains("model.vocab[\"b\"] must be a token id (a non-negative integer); it is -3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_a_vocabulary_is_refused()
    {
        var error = Assert.Throws<RiverbedException>(() => TokenizerVocabulary.Size(Write("""{"model": {"type": "BPE"}}""")));

        Assert.Contains("has no vocabulary", error.Message, StringComparison.Ordinal);
    }
}
