using System.Text.Json.Nodes;

namespace Riverbed.Runner.Tests;

public sealed class ModelsGenerateTests
{
    [Fact]
    public void Generate_demo_writes_three_complete_folders_and_then_reports_them_up_to_date()
    {
        using var scratch = new ScratchFolder("demo");
        var output = scratch.File("demo");

        var first = Cli.Run("models", "generate", "demo", "--output", output);

        Assert.True(first.ExitCode == 0, first.ToString());
        foreach (var role in new[] { "mlm", "nli", "rtd" })
        {
            foreach (var file in new[] { "model.onnx", "config.json", "tokenizer.json" })
            {
                Assert.True(File.Exists(Path.Combine(output, role, file)), $"{role}/{file} is missing\n{first}");
            }
            Assert.InRange(new FileInfo(Path.Combine(output, role, "model.onnx")).Length, 1 << 20, 8 << 20);
        }
        Assert.Contains("not quality models", first.StandardOutput, StringComparison.Ordinal);
        var written = File.GetLastWriteTimeUtc(Path.Combine(output, "mlm", "model.onnx"));

        var second = Cli.Run("models", "generate", "demo", "--output", output);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("up to date", second.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(output, "mlm", "model.onnx")));

        // A missing file makes the folder incomplete: the next run regenerates it.
        File.Delete(Path.Combine(output, "nli", "config.json"));
        var third = Cli.Run("models", "generate", "demo", "--output", output);
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.True(File.Exists(Path.Combine(output, "nli", "config.json")));

        // And what was generated is a valid model folder for its role.
        var check = Cli.Run("models", "check", Path.Combine(output, "mlm"), Path.Combine(output, "nli"), Path.Combine(output, "rtd"));
        Assert.True(check.ExitCode == 0, check.ToString());
    }

    [Fact]
    public void Generate_demo_with_a_missing_vocabulary_file_names_it_and_the_bundled_alternative()
    {
        using var scratch = new ScratchFolder("demo");
        var missing = scratch.File("nowhere.json");
        var result = Cli.Run("models", "generate", "demo", "--output", scratch.File("demo"), "--vocab", missing);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(missing, result.StandardError, StringComparison.Ordinal);
        Assert.Contains("bundled", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_encoder_sizes_the_model_to_a_tokenizer_and_copies_it()
    {
        using var scratch = new ScratchFolder("encoder");
        var tokenizer = TestPaths.Fixture("tokenizers", "roberta-base", "tokenizer.json");
        var output = scratch.File("nli");

        var result = Cli.Run("models", "generate", "encoder", "--role", "nli", "--tokenizer", tokenizer, "--output", output,
            "--seed", "5", "--layers", "1", "--float16");

        Assert.True(result.ExitCode == 0, result.ToString());
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "config.json")))!;
        Assert.Equal("roberta", (string?)config["model_type"]);
        Assert.Equal(50265, (int)config["vocab_size"]!);
        Assert.Equal(514, (int)config["max_position_embeddings"]!);
        Assert.Equal(1, (int)config["num_hidden_layers"]!);
        Assert.Equal("float16", (string?)config["torch_dtype"]);
        Assert.Equal(File.ReadAllBytes(tokenizer), File.ReadAllBytes(Path.Combine(output, "tokenizer.json")));
    }

    [Theory]
    [InlineData("--vocab-size", "100", "--tokenizer", "x.json")]
    [InlineData("--role", "summary", "--vocab-size", "100")]
    [InlineData("--vocab-size", "0", "--role", "mlm")]
    public void Generate_encoder_refuses_contradictory_or_invalid_arguments(params string[] arguments)
    {
        using var scratch = new ScratchFolder("encoder");
        string[] all = ["models", "generate", "encoder", .. arguments, "--output", scratch.File("out")];
        if (!arguments.Contains("--role"))
        {
            all = [.. all, "--role", "mlm"];
        }
        var result = Cli.Run(all);
        Assert.Equal(2, result.ExitCode);
        Assert.False(Directory.Exists(scratch.File("out")));
    }

    [Fact]
    public void Generate_encoder_with_a_missing_tokenizer_names_the_file()
    {
        using var scratch = new ScratchFolder("encoder");
        var missing = scratch.File("tokenizer.json");
        var result = Cli.Run("models", "generate", "encoder", "--role", "mlm", "--tokenizer", missing, "--output", scratch.File("out"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(missing, result.StandardError, StringComparison.Ordinal);
    }
}
