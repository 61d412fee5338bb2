using System.Text;
using System.Text.Json;

namespace Riverbed.Runner.Tests;

[Trait("Category", "Slow")]
public sealed class TokenizeCommandTests
{
    private static string TokenizerPath(string name) => TestPaths.Fixture("tokenizers", name, "tokenizer.json");

    [Fact]
    public void Records_from_standard_input_are_encoded_as_HF_encodes_them()
    {
        var golden = File.ReadLines(TestPaths.Fixture("tokenizers", "roberta-base", "golden.jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(c => c.GetProperty("add_special_tokens").GetBoolean() && c.GetProperty("truncation").ValueKind == JsonValueKind.Null)
            .Take(60)
            .ToList();
        var input = new StringBuilder();
        foreach (var c in golden)
        {
            var record = new Dictionary<string, string?> { ["text"] = c.GetProperty("text").GetString() };
            if (c.TryGetProperty("pair", out var pair))
            {
                record["pair"] = pair.GetString();
            }
            input.Append(JsonSerializer.Serialize(record)).Append('\n');
        }

        var result = Cli.Run(["tokenize", "--tokenizer", TokenizerPath("roberta-base")], input.ToString());

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(golden.Count, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var actual = JsonDocument.Parse(lines[i]).RootElement;
            foreach (var (field, goldenField) in new[]
            {
                ("ids", "ids"), ("type_ids", "type_ids"), ("tokens", "tokens"), ("offsets", "offsets_utf16"),
                ("special_tokens_mask", "special_tokens_mask"),
            })
            {
                Assert.Equal(golden[i].GetProperty(goldenField).GetRawText(), actual.GetProperty(field).GetRawText());
            }
        }
    }

    [Fact]
    public void An_input_file_special_tokens_off_and_a_max_length_are_honoured()
    {
        using var scratch = new ScratchFolder("tokenize");
        var path = scratch.File("input.jsonl");
        File.WriteAllText(path, "{\"text\": \"one two three four five\"}\r\n\r\n{\"text\": \"six\", \"pair\": null}\n");

        var plain = Cli.Run("tokenize", "--tokenizer", TokenizerPath("bert-base-uncased"), "--input", path,
            "--add-special-tokens", "false");
        Assert.True(plain.ExitCode == ExitCodes.Success, plain.ToString());
        var lines = plain.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal("[\"one\",\"two\",\"three\",\"four\",\"five\"]",
            JsonDocument.Parse(lines[0]).RootElement.GetProperty("tokens").GetRawText());

        var truncated = Cli.Run("tokenize", "--tokenizer", TokenizerPath("bert-base-uncased"), "--input", path,
            "--max-length", "4");
        Assert.True(truncated.ExitCode == ExitCodes.Success, truncated.ToString());
        var first = JsonDocument.Parse(truncated.StandardOutput.Split('\n')[0]).RootElement;
        Assert.Equal("[\"[CLS]\",\"one\",\"two\",\"[SEP]\"]", first.GetProperty("tokens").GetRawText());
        Assert.Equal("[[0,0],[0,3],[4,7],[0,0]]", first.GetProperty("offsets").GetRawText());
    }

    [Theory]
    [InlineData("{\"text\": \"fine\"}\n{\"text\": \"broken\"\n", "<stdin>:2: not valid JSON")]
    [InlineData("{\"text\": \"fine\"}\n\n{\"pair\": \"no text\"}\n", "<stdin>:3: the record has no \"text\" field")]
    [InlineData("{\"text\": 42}\n", "<stdin>:1: \"text\" must be a string")]
    [InlineData("[\"text\"]\n", "<stdin>:1: expected an object")]
    [InlineData("{\"text\": \"a\\ud800b\"}\n", "<stdin>:1: \"text\" is not valid text")]
    public void Bad_records_fail_with_the_input_line(string input, string message)
    {
        var result = Cli.Run(["tokenize", "--tokenizer", TokenizerPath("gpt2")], input);
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains(message, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_UTF8_is_refused_with_its_line_never_replaced()
    {
        using var scratch = new ScratchFolder("tokenize");
        var path = scratch.File("input.jsonl");
        File.WriteAllBytes(path, [.. "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n{\"text\": \"bad "u8, 0xC3, 0x28, .. "\"}\n"u8]);
        var result = Cli.Run("tokenize", "--tokenizer", TokenizerPath("gpt2"), "--input", path);
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains($"{path}:3: invalid UTF-8", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("\uFFFD", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_or_broken_tokenizer_is_an_error_naming_the_file()
    {
        using var scratch = new ScratchFolder("tokenize");
        var missing = scratch.File("nope", "tokenizer.json");
        var result = Cli.Run(["tokenize", "--tokenizer", missing], "{\"text\": \"x\"}\n");
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains(missing, result.StandardError, StringComparison.Ordinal);

        var broken = scratch.File("tokenizer.json");
        File.WriteAllText(broken, "{\"model\": {\"type\": \"Mystery\", \"vocab\": {}}}");
        result = Cli.Run(["tokenize", "--tokenizer", broken], "{\"text\": \"x\"}\n");
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains("$.model.type", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_tokenizer_it_is_a_usage_error()
    {
        var result = Cli.Run(["tokenize"], string.Empty);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--tokenizer", result.AllOutput, StringComparison.Ordinal);
    }
}
