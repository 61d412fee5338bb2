using Riverbed.Inference;
using Riverbed.Inference.Hub;
using Riverbed.Inference.ModelFolders;
using Riverbed.ModelKit;

namespace Riverbed.Core.Tests.Inference.Hub;

/// <summary>Whole pulls against the fake Hub: the layout, the contract, the recorded commits, and nothing left half-done.</summary>
[Trait("Category", "Slow")]
public sealed class ModelPullTests : IClassFixture<EnvironmentFixture>, IDisposable
{
    private readonly InferenceEnvironment _environment;
    private readonly FakeHub _hub = new();
    private readonly ScratchFolder _scratch = new("pull");
    private readonly Dictionary<string, string> _commits = [];

    public ModelPullTests(EnvironmentFixture fixture)
    {
        _environment = fixture.Environment;
        _commits["mlm"] = _hub.Publish("acme/mlm-export", "main", HubModels.Export(EncoderFamily.Roberta, EncoderHead.Mlm, "roberta-base"));
        _commits["nli"] = _hub.Publish("acme/nli-export", "main", HubModels.Export(EncoderFamily.Bert, EncoderHead.Nli, "bert-base-uncased"));
        _commits["rtd"] = _hub.Publish("acme/electra-export", "main", HubModels.ElectraFeatureExport());
        _commits["head"] = _hub.Publish("acme/electra-checkpoint", "refs/pr/4", new Dictionary<string, byte[]>
        {
            ["model.safetensors"] = HubModels.Safetensors(HubModels.HeadTensors()),
        });
        _commits["ner"] = _hub.Publish("acme/ner-export", "main", HubModels.Export(EncoderFamily.Bert, EncoderHead.Ner, "bert-base-uncased"));
    }

    public void Dispose()
    {
        _hub.Dispose();
        _scratch.Dispose();
    }

    [Fact]
    public async Task A_pull_writes_one_folder_per_role_that_keeps_the_model_contract_and_names_its_commit()
    {
        var output = _scratch.File("models", "tiny");
        using var client = Client();

        var pulled = await ModelPull.RunAsync(client, Options(output));

        Assert.Equal(["mlm", "nli", "rtd", "ner"], pulled.Select(p => p.Role.Name()));
        foreach (var role in pulled)
        {
            using var folder = ModelFolder.Open(_environment, role.Folder, new ModelFolderOptions { Role = role.Role });
            var source = ModelSource.TryLoad(role.Folder)!;
            Assert.Equal(_commits[role.Role.Name()], source.Commit);
            Assert.Equal(["model.onnx", "tokenizer.json", "config.json"], source.Files.Select(f => f.Name));
        }
        var rtd = ModelSource.TryLoad(Path.Combine(output, "rtd"))!;
        Assert.Equal(_commits["head"], rtd.Head!.Commit);
        Assert.Equal("refs/pr/4", rtd.Head.Revision);
        Assert.Equal(["mlm", "ner", "nli", "rtd"], Directory.GetDirectories(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["tiny"], Directory.GetFileSystemEntries(_scratch.File("models")).Select(Path.GetFileName)); // no staging folder left
    }

    [Fact]
    public async Task Only_the_head_tensors_of_the_checkpoint_are_read_not_the_whole_file()
    {
        using var client = Client();

        await ModelPull.RunAsync(client, Options(_scratch.File("models")));

        var checkpoint = _hub.Requests.Where(r => r.Server == "cdn" && r.Target.Contains("model.safetensors", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, checkpoint.Count); // the header length, the header, and the four head tensors
        Assert.All(checkpoint, r => Assert.StartsWith("bytes=", r.Range, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_fp16_variant_gets_the_head_after_a_cast_and_still_keeps_the_contract()
    {
        var output = _scratch.File("fp16");
        using var client = Client();

        await ModelPull.RunAsync(client, Options(output, OnnxVariant.Fp16, roles: [Rtd()]));

        using var folder = ModelFolder.Open(_environment, Path.Combine(output, "rtd"), new ModelFolderOptions { Role = ModelRole.ReplacedTokenDetection });
        Assert.Equal(TensorElementType.Float, folder.Contract.LogitsType);
        Assert.Equal("onnx/model_fp16.onnx", ModelSource.TryLoad(folder.Path)!.Files[0].Path);
    }

    [Fact]
    public async Task A_pull_that_fails_part_way_leaves_no_model_folder_and_no_staging_folder()
    {
        var output = _scratch.File("broken");
        using var client = Client();

        // fp16 exists for the ELECTRA export only: the mlm role fails after the rtd files were fetched.
        var error = await Assert.ThrowsAsync<HubException>(() => ModelPull.RunAsync(client, Options(output, OnnxVariant.Fp16, roles: [Rtd(), Role(ModelRole.MaskedLm, "acme/mlm-export")])));

        Assert.Contains("has no file 'onnx/model_fp16.onnx'", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
        Assert.False(Directory.Exists(ModelPull.StagingFolder(output)));
    }

    [Fact]
    public async Task A_pull_interrupted_in_the_middle_of_a_transfer_leaves_no_model_folder_behind()
    {
        var output = _scratch.File("interrupted");
        using var client = Client();
        using var cancel = new CancellationTokenSource();
        client.Progress += p =>
        {
            if (p.Finished && p.Path == "tokenizer.json")
            {
                cancel.Cancel();
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ModelPull.RunAsync(client, Options(output), cancel.Token));

        Assert.False(Directory.Exists(output));
        Assert.False(Directory.Exists(ModelPull.StagingFolder(output)));
    }

    [Fact]
    public async Task Offline_with_a_cold_cache_lists_every_missing_file_and_writes_nothing()
    {
        var output = _scratch.File("offline");
        using var client = Client(offline: true);

        var error = await Assert.ThrowsAsync<HubNotCachedException>(() => ModelPull.RunAsync(client, Options(output)));

        Assert.Contains("lacks 13 files", error.Message, StringComparison.Ordinal);
        Assert.Contains("acme/electra-checkpoint@refs/pr/4 model.safetensors", error.Message, StringComparison.Ordinal);
        Assert.Contains("run the same pull without " + SettingNames.OptionName(Setting.Offline), error.Message, StringComparison.Ordinal);
        Assert.Empty(_hub.Requests);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task Offline_after_one_online_pull_builds_the_same_folders_from_the_cache_alone()
    {
        using (var online = Client())
        {
            await ModelPull.RunAsync(online, Options(_scratch.File("first")));
        }
        var requests = _hub.Requests.Count;
        using var offline = Client(offline: true);

        await ModelPull.RunAsync(offline, Options(_scratch.File("second")));

        Assert.Equal(requests, _hub.Requests.Count);
        foreach (var role in new[] { "mlm", "nli", "rtd", "ner" })
        {
            Assert.Equal(File.ReadAllBytes(_scratch.File("first", role, "model.onnx")), File.ReadAllBytes(_scratch.File("second", role, "model.onnx")));
        }
    }

    [Fact]
    public async Task A_feature_extraction_export_without_a_head_checkpoint_says_how_to_name_one()
    {
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => ModelPull.RunAsync(client, Options(_scratch.File("nohead"), roles: [Role(ModelRole.ReplacedTokenDetection, "acme/electra-export")])));

        Assert.Contains(SettingNames.OptionName(Setting.RtdHead), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pull_into_a_folder_that_holds_files_is_refused()
    {
        var output = _scratch.File("taken");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "notes.txt"), "mine");
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => ModelPull.RunAsync(client, Options(output)));

        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(output, "notes.txt")));
    }

    private static RolePull Rtd() => new(ModelRole.ReplacedTokenDetection, new HubReference("acme/electra-export", "main"),
        new HubReference("acme/electra-checkpoint", "refs/pr/4"));

    private static RolePull Role(ModelRole role, string repository) => new(role, new HubReference(repository, "main"));

    private static ModelPullOptions Options(string output, OnnxVariant variant = OnnxVariant.Fp32, IReadOnlyList<RolePull>? roles = null) => new()
    {
        Output = output,
        Variant = variant,
        Roles = roles ??
        [
            Role(ModelRole.MaskedLm, "acme/mlm-export"),
            Role(ModelRole.Nli, "acme/nli-export"),
            Rtd(),
            Role(ModelRole.TokenClassification, "acme/ner-export"),
        ],
    };

    private HubClient Client(bool offline = false) => new(new HubOptions
    {
        Endpoint = _hub.Endpoint,
        CacheFolder = _scratch.File("cache"),
        Offline = offline,
        RetryDelay = TimeSpan.FromMilliseconds(10),
    });
}
