using System.Text.Json;
using Riverbed.ModelKit;

namespace Riverbed.Runner.Tests;

/// <summary>`riverbed models pull` as a user runs it, against the fake Hub (HF_ENDPOINT) with its own cache.</summary>
[Trait("Category", "Slow")]
public sealed class ModelsPullCommandTests : IDisposable
{
    private readonly FakeHub _hub = new();
    private readonly ScratchFolder _scratch = new("models-pull");
    private readonly string _nliCommit;
    private readonly string _headCommit;

    public ModelsPullCommandTests()
    {
        _nliCommit = _hub.Publish("acme/nli-export", "main", HubModels.Export(EncoderFamily.Bert, EncoderHead.Nli, "bert-base-uncased"));
        _hub.Publish("acme/electra-export", "main", HubModels.ElectraFeatureExport());
        _headCommit = _hub.Publish("acme/electra-checkpoint", "refs/pr/4", new Dictionary<string, byte[]>
        {
            ["model.safetensors"] = HubModels.Safetensors(HubModels.HeadTensors()),
        });
    }

    public void Dispose()
    {
        _hub.Dispose();
        _scratch.Dispose();
    }

    [Fact]
    public void A_pull_downloads_appends_the_head_checks_each_folder_and_says_what_it_pulled()
    {
        var output = _scratch.File("models", "tiny");

        var result = Pull("--nli", "acme/nli-export", "--rtd", "acme/electra-export", "--rtd-head", "acme/electra-checkpoint@refs/pr/4", "-o", output);

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("acme/electra-export onnx/model.onnx", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("sha256 verified", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("git sha1 verified", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{Path.Combine(output, "rtd")}: ok, keeps the rtd contract", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{Path.Combine(output, "nli")}: ok, keeps the nli contract", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"rtd: acme/electra-export at ", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"head from acme/electra-checkpoint at {_headCommit}", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("pulled 2 model folders into", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scoring_run_with_pulled_models_names_their_repository_and_commit_in_run_json()
    {
        var models = _scratch.File("models");
        Assert.Equal(ExitCodes.Success, Pull("--nli", "acme/nli-export", "-o", models).ExitCode);
        var output = _scratch.File("scored");

        var score = Cli.Run(["score", TestPaths.Fixture("datasets", "alpaca", "alpaca_data_first2000.json"), "--models", models,
            "--output", output, "--limit", "3", "--format", "jsonl"]);

        Assert.True(score.ExitCode == ExitCodes.Success, score.ToString());
        using var run = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "run.json")));
        var source = run.RootElement.GetProperty("models").GetProperty("nli").GetProperty("source");
        Assert.Equal("acme/nli-export", source.GetProperty("repository").GetString());
        Assert.Equal("main", source.GetProperty("revision").GetString());
        Assert.Equal(_nliCommit, source.GetProperty("commit").GetString());
        Assert.Equal(_hub.Endpoint, source.GetProperty("endpoint").GetString());
    }

    [Fact]
    public void A_pulled_folder_that_breaks_the_contract_is_removed_and_the_reason_shown()
    {
        var output = _scratch.File("wrong-role");

        // An NLI export pulled as the mlm role: its logits are [batch, 3], not [batch, sequence, vocabulary].
        var result = Pull("--mlm", "acme/nli-export", "-o", output);

        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains("a mlm model's logits are", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("1 of 1 pulled model folders break the contract", result.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void The_large_preset_says_which_roles_have_no_public_export_and_touches_nothing()
    {
        var output = _scratch.File("large");

        var result = Pull("--preset", "large", "-o", output);

        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains("the large preset cannot fill every role", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("mlm: no public fill-mask ONNX export of roberta-large was confirmed", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("rtd: no public ONNX export of electra-large-discriminator was confirmed", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(_hub.Requests);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Offline_with_a_cold_cache_lists_what_is_missing()
    {
        var result = Pull("--nli", "acme/nli-export", "--offline", "-o", _scratch.File("offline"));

        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains("offline, and the cache", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("acme/nli-export@main onnx/model.onnx", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(_hub.Requests);
    }

    [Fact]
    public void A_gated_repository_gets_a_clear_message_without_a_token_and_opens_with_HF_TOKEN()
    {
        _hub.Gate("acme/nli-export");

        var anonymous = Pull("--nli", "acme/nli-export", "-o", _scratch.File("gated"));
        var authorized = Cli.Run(["models", "pull", "--nli", "acme/nli-export", "-o", _scratch.File("opened")],
            environment: Environment(("HF_TOKEN", FakeHub.Token)));

        Assert.Equal(ExitCodes.Failure, anonymous.ExitCode);
        Assert.Contains("401 Unauthorized", anonymous.StandardError, StringComparison.Ordinal);
        Assert.Contains("Set HF_TOKEN", anonymous.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", anonymous.StandardError, StringComparison.Ordinal);
        Assert.True(authorized.ExitCode == ExitCodes.Success, authorized.ToString());
    }

    [Fact]
    public void Without_a_preset_or_a_repository_the_command_says_what_it_needs()
    {
        var result = Pull("-o", _scratch.File("nothing"));

        Assert.NotEqual(ExitCodes.Success, result.ExitCode);
        Assert.Contains("name a --preset, or the repositories of the roles to pull", result.StandardError, StringComparison.Ordinal);
    }

    private CliResult Pull(params string[] arguments) =>
        Cli.Run(["models", "pull", .. arguments], environment: Environment(("HF_TOKEN", null)));

    private Dictionary<string, string?> Environment(params (string Name, string? Value)[] extra)
    {
        var environment = new Dictionary<string, string?>
        {
            ["HF_ENDPOINT"] = _hub.Endpoint,
            ["RIVERBED_HUB_CACHE"] = _scratch.File("cache"),
            ["HF_HUB_OFFLINE"] = null,
        };
        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }
        return environment;
    }
}
