using System.Text.Json.Nodes;
using Riverbed.Tokenization;

namespace Riverbed.Core.Tests.Tokenization;

/// <summary>A tokenizer.json that cannot be reproduced exactly is refused at load, naming the JSON path at fault.</summary>
public sealed class TokenizerLoadTests
{
    [Fact]
    public void A_missing_file_is_refused_with_its_path()
    {
        using var scratch = new ScratchFolder("tokenizer");
        var path = scratch.File("absent", "tokenizer.json");
        var error = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromFile(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<RiverbedException>(error);
    }

    [Fact]
    public void Malformed_JSON_is_refused_with_its_line()
    {
        using var scratch = new ScratchFolder("tokenizer");
        var path = scratch.File("tokenizer.json");
        File.WriteAllText(path, "{\n  \"version\": \"1.0\",\n  \"model\": {\"type\": \"BPE\",,}\n}");
        var error = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromFile(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_UTF8_is_refused()
    {
        using var scratch = new ScratchFolder("tokenizer");
        var path = scratch.File("tokenizer.json");
        File.WriteAllBytes(path, [.. "{\"version\": \""u8, 0xFF, 0xFE, .. "\"}"u8]);
        Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromFile(path));
    }

    [Fact]
    public void An_unsupported_component_is_refused_with_its_path_and_what_is_supported()
    {
        var error = Refused("bert-base-uncased", json => json["pre_tokenizer"] = new JsonObject { ["type"] = "UnicodeScripts" });
        Assert.Equal("$.pre_tokenizer.type", error.JsonPath);
        Assert.Contains("UnicodeScripts", error.Message, StringComparison.Ordinal);
        Assert.Contains("supported: ByteLevel, BertPreTokenizer", error.Message, StringComparison.Ordinal);

        error = Refused("bert-base-uncased", json => json["normalizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "NFC" }, new JsonObject { ["type"] = "Unidecode" }),
        });
        Assert.Equal("$.normalizer.normalizers[1].type", error.JsonPath);
    }

    [Fact]
    public void A_merge_of_an_unknown_token_is_refused_with_its_index()
    {
        var error = Refused("gpt2", json => json["model"]!["merges"]![17] = "Ġthe zzzz-not-a-token");
        Assert.Equal("$.model.merges[17]", error.JsonPath);
        Assert.Contains("zzzz-not-a-token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_merge_that_is_not_two_tokens_is_refused()
    {
        var error = Refused("gpt2", json => json["model"]!["merges"]![3] = "a b c");
        Assert.Equal("$.model.merges[3]", error.JsonPath);
    }

    [Fact]
    public void Vocabulary_inconsistencies_are_refused()
    {
        var error = Refused("bert-base-uncased", json => json["model"]!["vocab"]!["hello"] = -4);
        Assert.Equal("$.model.vocab[\"hello\"]", error.JsonPath);

        error = Refused("bert-base-uncased", json => json["model"]!["vocab"]!["hello"] = 2088);
        Assert.Contains("both have id 2088", error.Message, StringComparison.Ordinal);

        error = Refused("deberta-v3-style-unigram", json => json["model"]!["unk_id"] = 9000);
        Assert.Equal("$.model.unk_id", error.JsonPath);
    }

    [Fact]
    public void An_absurd_vocabulary_is_refused_before_it_is_allocated()
    {
        var json = File.ReadAllText(Fixtures.JsonPath("bert-base-uncased"));
        var error = Assert.Throws<TokenizerLoadException>(() =>
            Tokenizer.FromJson(json, new TokenizerOptions { MaxVocabularySize = 1000 }));
        Assert.Contains("MaxVocabularySize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_added_token_whose_id_disagrees_with_the_vocabulary_is_refused()
    {
        var error = Refused("bert-base-uncased", json => json["added_tokens"]![4]!["id"] = 104);
        Assert.Equal("$.added_tokens[4].id", error.JsonPath);
        Assert.Contains("[MASK]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_post_processor_id_outside_the_vocabulary_is_refused()
    {
        var error = Refused("roberta-base", json => json["post_processor"]!["cls"]![1] = 60000);
        Assert.Equal("$.post_processor.cls[1]", error.JsonPath);

        error = Refused("bert-base-uncased", json => json["post_processor"]!["single"]![0]!["SpecialToken"]!["id"] = "[BOS]");
        Assert.Equal("$.post_processor.single[0].SpecialToken.id", error.JsonPath);
    }

    [Fact]
    public void Malformed_regexes_and_charsmaps_are_refused_with_their_path()
    {
        var error = Refused("bert-base-uncased", json => json["pre_tokenizer"] = JsonNode.Parse(
            """{"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated", "invert": false}"""));
        Assert.Equal("$.pre_tokenizer.pattern.Regex", error.JsonPath);

        error = Refused("deberta-v3-style-unigram",
            json => json["normalizer"]!["normalizers"]![1]!["precompiled_charsmap"] = "not base64!");
        Assert.Equal("$.normalizer.normalizers[1].precompiled_charsmap", error.JsonPath);

        error = Refused("deberta-v3-style-unigram",
            json => json["normalizer"]!["normalizers"]![1]!["precompiled_charsmap"] = Convert.ToBase64String([9, 0, 0, 0, 1]));
        Assert.Contains("not a SentencePiece charsmap", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nondeterministic_or_unknown_settings_are_refused()
    {
        var error = Refused("gpt2", json => json["model"]!["dropout"] = 0.1);
        Assert.Equal("$.model.dropout", error.JsonPath);

        error = Refused("gpt2", json => json["version"] = "2.0");
        Assert.Equal("$.version", error.JsonPath);

        error = Refused("gpt2", json => json["model"]!["type"] = "Tiktoken");
        Assert.Contains("supported: BPE, WordPiece, Unigram, WordLevel", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_file_truncation_is_read_but_not_applied_implicitly()
    {
        var json = JsonNode.Parse(File.ReadAllText(Fixtures.JsonPath("bert-base-uncased")))!;
        json["truncation"] = JsonNode.Parse("""{"max_length": 8, "strategy": "OnlyFirst", "stride": 2, "direction": "Left"}""");
        var tokenizer = Tokenizer.FromJson(json.ToJsonString());
        Assert.Equal(8, tokenizer.Truncation!.MaxLength);
        Assert.Equal(TruncationStrategy.OnlyFirst, tokenizer.Truncation.Strategy);
        Assert.Equal(TruncationDirection.Left, tokenizer.Truncation.Direction);
        Assert.Equal(2, tokenizer.Truncation.Stride);
        var text = string.Join(' ', Enumerable.Repeat("word", 20));
        Assert.Equal(22, tokenizer.Encode(text).Length);
        Assert.Equal(8, tokenizer.Encode(text, new EncodeOptions { Truncation = tokenizer.Truncation }).Length);
    }

    private static TokenizerLoadException Refused(string fixture, Action<JsonNode> change)
    {
        var json = JsonNode.Parse(File.ReadAllText(Fixtures.JsonPath(fixture)))!;
        change(json);
        var error = Assert.Throws<TokenizerLoadException>(() => Tokenizer.FromJson(json.ToJsonString()));
        Assert.False(string.IsNullOrEmpty(error.JsonPath));
        Assert.Contains(error.JsonPath!, error.Message, StringComparison.Ordinal);
        return error;
    }
}
