using System.Security.Cryptography;
using System.Text;
using Riverbed.ModelKit;

namespace Riverbed.Core.Tests.ModelKit;

public sealed class BertTokenizerJsonTests
{
    private const string BertVocabTxtSha256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3";

    private static IReadOnlyList<string> BundledVocabulary() =>
        BertTokenizerJson.ReadVocabulary(BertTokenizerJson.BundledVocabulary(), BertTokenizerJson.BundledName);

    [Fact]
    public void The_converted_vocabulary_is_bert_base_uncased_vocab_txt_byte_for_byte()
    {
        var vocabulary = BundledVocabulary();
        Assert.Equal(30522, vocabulary.Count);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(BertTokenizerJson.VocabTxt(vocabulary))));
        Assert.Equal(BertVocabTxtSha256, hash);
        Assert.Equal(("[unused0]", "hello", "##s", "[MASK]"), (vocabulary[1], vocabulary[7592], vocabulary[2015], vocabulary[103]));
    }

    [Fact]
    public void The_generated_tokenizer_json_is_the_fixture_byte_for_byte()
    {
        var generated = BertTokenizerJson.Create(BundledVocabulary());
        var fixture = File.ReadAllText(TestPaths.Fixture("tokenizers", "bert-base-uncased", "tokenizer.json"), Encoding.UTF8);
        Assert.Equal(fixture, generated);
    }

    [Fact]
    public void A_vocabulary_that_is_not_berts_is_refused_with_its_path()
    {
        using var scratch = new ScratchFolder("vocab");
        var path = scratch.File("vocab.json");
        File.WriteAllText(path, "[" + string.Join(',', Enumerable.Range(0, 200).Select(i => $"\"t{i}\"")) + "]");
        var error = Assert.Throws<RiverbedException>(() => BertTokenizerJson.ReadVocabulary(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("[PAD]", error.Message, StringComparison.Ordinal);

        File.WriteAllText(path, "{\"not\": \"a list\"");
        error = Assert.Throws<RiverbedException>(() => BertTokenizerJson.ReadVocabulary(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
