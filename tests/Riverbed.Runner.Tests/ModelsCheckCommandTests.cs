using System.Security.Cryptography;

namespace Riverbed.Runner.Tests;

public sealed class ModelsCheckCommandTests : IDisposable
{
    private readonly ScratchFolder _scratch = new("models-check");

    public void Dispose() => _scratch.Dispose();

    private string Folder(string name, ContractModelSpec spec, int? tokenizer = null, Action<Dictionary<string, object?>>? config = null) =>
        ModelFolders.Write(_scratch.File(name), spec, tokenizer, config);

    [Fact]
    public void A_folder_that_keeps_the_contract_gets_a_report_and_exit_zero()
    {
        var folder = Folder("mlm", new ContractModelSpec { Head = "mlm" });

        var result = Cli.Run("models", "check", folder);

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var report = result.StandardOutput;
        Assert.Contains($"{folder}: ok, keeps the mlm contract", report, StringComparison.Ordinal);
        Assert.Contains("role        mlm (inferred from config.json architectures: RobertaForMaskedLM)", report, StringComparison.Ordinal);
        Assert.Contains("input_ids: int64[batch, sequence]", report, StringComparison.Ordinal);
        Assert.Contains("logits: float32[batch, sequence, 40]  (logits)", report, StringComparison.Ordinal);
        Assert.Contains("vocabulary  model 40, tokenizer 40", report, StringComparison.Ordinal);
        Assert.Contains("opsets ai.onnx 17", report, StringComparison.Ordinal);
        Assert.Contains("provider    CPU; ONNX Runtime 1.32.0", report, StringComparison.Ordinal);
        foreach (var file in new[] { "model.onnx", "tokenizer.json", "config.json" })
        {
            var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, file))));
            Assert.Contains(sha, report, StringComparison.Ordinal);
        }
        Assert.Empty(result.StandardError);
    }

    [Fact]
    public void Nli_labels_are_reported_as_resolved_and_every_folder_is_checked()
    {
        var nli = Folder("nli", new ContractModelSpec { Head = "nli", TokenTypes = true });
        var broken = Folder("broken", new ContractModelSpec { Head = "rtd", MaskName = "mask" });

        var result = Cli.Run("models", "check", broken, nli);

        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains("labels      entailment = 2 (ENTAILMENT), neutral = 1 (NEUTRAL), contradiction = 0 (CONTRADICTION)", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("token_type_ids: int64[batch, sequence]", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"riverbed: error: model folder '{broken}': model.onnx has no input 'attention_mask'", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("1 of 2 model folders break the contract", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void The_role_can_be_given_and_a_wrong_role_breaks_the_contract()
    {
        var folder = Folder("rtd", new ContractModelSpec { Head = "rtd", TrailingAxis = true });

        var asRtd = Cli.Run("models", "check", folder, "--role", "rtd");
        var asNli = Cli.Run("models", "check", folder, "--role", "nli");

        Assert.True(asRtd.ExitCode == ExitCodes.Success, asRtd.ToString());
        Assert.Contains("role        rtd (as asked)", asRtd.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("(trailing axis of 1)", asRtd.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failure, asNli.ExitCode);
        Assert.Contains("has rank 3; a nli model's logits are [batch, 3]", asNli.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_and_an_unparsable_config_each_get_their_own_message()
    {
        var folder = Folder("two-problems", new ContractModelSpec());
        File.Delete(Path.Combine(folder, "model.onnx"));
        File.WriteAllText(Path.Combine(folder, "config.json"), "{\"model_type\": \"roberta\"\n\"vocab_size\": 40}");

        var result = Cli.Run("models", "check", folder);

        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains($"model folder '{folder}' has 2 problems:", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("  - missing model.onnx (a model folder holds model.onnx, tokenizer.json and config.json)", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("  - config.json is not valid JSON at line 2, position 1:", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tokenizer_larger_than_the_model_vocabulary_is_refused()
    {
        var folder = Folder("small-vocab", new ContractModelSpec { Head = "mlm" }, tokenizer: 64);

        var result = Cli.Run("models", "check", folder);

        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains("the model's vocabulary is smaller than the tokenizer's: its logits cover 40 ids but tokenizer.json has 64", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreadable_tokenizer_is_named_with_line_and_position()
    {
        var folder = Folder("bad-tokenizer", new ContractModelSpec());
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), "{\"model\": {\"vocab\": {\"a\": 0,\n \"b\": one}}}");

        var result = Cli.Run("models", "check", folder);

        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains($"'{Path.Combine(folder, "tokenizer.json")}' is not valid JSON at line 2, position 7", result.StandardError, StringComparison.Ordinal);
    }

    /// <summary>
    /// On the CPU build (what CI makes) CUDA cannot load: the answer names what to build instead, without a stack trace.
    /// A GPU build on a machine without CUDA names the missing library instead (CudaProviderTests).
    /// </summary>
    [Fact]
    public void Cuda_that_cannot_load_is_a_clear_error_not_a_crash()
    {
        var folder = Folder("cuda", new ContractModelSpec());

        var result = Cli.Run("models", "check", folder, "--device", "cuda:0");

        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains("attaching CUDA device 0", result.StandardError, StringComparison.Ordinal);
        Assert.Matches(@"(?s)not enabled in this build.*\./setup\.sh --with-cuda|is missing; it comes with|no CUDA-capable device", result.StandardError);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal); // no stack trace
    }

    [Theory]
    [InlineData("--role", "classifier")]
    [InlineData("--device", "tpu")]
    public void Bad_options_are_usage_errors(string option, string value)
    {
        var result = Cli.Run("models", "check", _scratch.Path, option, value);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(value, result.StandardError, StringComparison.Ordinal);
    }
}
