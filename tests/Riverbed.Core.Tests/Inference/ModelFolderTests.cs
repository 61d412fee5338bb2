using System.Security.Cryptography;
using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.Inference.Onnx;
using Riverbed.ModelKit.Onnx;

namespace Riverbed.Core.Tests.Inference;

public sealed class ModelFolderTests : IClassFixture<EnvironmentFixture>, IDisposable
{
    private static readonly string[] OtherArchitecture = ["ElectraForMaskedLM"];
    private readonly InferenceEnvironment _environment;
    private readonly ScratchFolder _scratch = new("folders");

    public ModelFolderTests(EnvironmentFixture fixture) => _environment = fixture.Environment;

    public void Dispose() => _scratch.Dispose();

    private string Folder(ContractModelSpec spec, int? tokenizer = null, Action<Dictionary<string, object?>>? config = null) =>
        ModelFolders.Write(_scratch.File(Guid.NewGuid().ToString("N")), spec, tokenizer, config);

    private ModelFolder Open(string folder, ModelRole? role = null, int? tokenizer = 40) =>
        ModelFolder.Open(_environment, folder, new ModelFolderOptions { Role = role, TokenizerVocabularySize = tokenizer });

    private string Problem(string folder, ModelRole? role = null, int? tokenizer = 40)
    {
        var error = Assert.Throws<ModelContractException>(() => Open(folder, role, tokenizer).Dispose());
        Assert.Equal(Path.GetFullPath(folder), error.Folder);
        return Assert.Single(error.Problems);
    }

    // --- folders that keep the contract ------------------------------------------------------------------------

    [Fact]
    public void A_masked_lm_folder_passes_with_its_role_inferred_from_config()
    {
        using var model = Open(Folder(new ContractModelSpec { Head = "mlm" }));

        Assert.Equal(ModelRole.MaskedLm, model.Role);
        Assert.Equal("inferred from config.json architectures: RobertaForMaskedLM", model.RoleReason);
        Assert.Equal(TensorElementType.Int64, model.Contract.InputIdsType);
        Assert.False(model.Contract.HasTokenTypeIds);
        Assert.Equal("logits", model.Contract.LogitsName);
        Assert.Equal(40, model.Contract.ModelVocabularySize);
        Assert.Equal([2L, 4L, 40L], model.Contract.ProbeLogitsShape);
        Assert.Empty(model.Notes);
    }

    [Fact]
    public void Nli_labels_resolve_in_any_order_and_case()
    {
        using var model = Open(Folder(new ContractModelSpec { Head = "nli" }, config: c =>
            c["id2label"] = new Dictionary<string, string> { ["0"] = "Neutral", ["1"] = "CONTRADICTION", ["2"] = "entailment" }));

        Assert.Equal(ModelRole.Nli, model.Role);
        Assert.Equal(new NliLabelIndices(Entailment: 2, Neutral: 0, Contradiction: 1), model.Contract.NliLabels);
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 3)]
    public void A_discriminator_may_keep_or_drop_the_trailing_axis(bool trailing, int rank)
    {
        using var model = Open(Folder(new ContractModelSpec { Head = "rtd", TrailingAxis = trailing }));

        Assert.Equal(ModelRole.ReplacedTokenDetection, model.Role);
        Assert.Equal(trailing, model.Contract.LogitsHaveTrailingAxis);
        Assert.Equal(rank, model.Contract.ProbeLogitsShape.Count);
    }

    [Fact]
    public void A_token_classifier_passes_with_bio_labels()
    {
        using var model = Open(Folder(new ContractModelSpec { Head = "ner", Labels = 5 }));

        Assert.Equal(ModelRole.TokenClassification, model.Role);
        Assert.Equal(ModelFolders.NerLabels, model.Contract.Labels);
    }

    [Fact]
    public void Int32_inputs_and_token_type_ids_are_part_of_the_contract()
    {
        using var model = Open(Folder(new ContractModelSpec { Head = "mlm", IdType = TensorElementType.Int32, TokenTypes = true }));

        Assert.Equal(TensorElementType.Int32, model.Contract.InputIdsType);
        Assert.Equal(TensorElementType.Int32, model.Contract.TokenTypeIdsType);
    }

    [Fact]
    public void More_logits_than_tokenizer_ids_is_a_note_not_a_problem()
    {
        using var model = Open(Folder(new ContractModelSpec { Head = "mlm" }), tokenizer: 38);

        Assert.Contains("the logits cover 40 ids, 2 more than the tokenizer's 38", Assert.Single(model.Notes), StringComparison.Ordinal);
    }

    [Fact]
    public void A_role_given_explicitly_wins_over_config_and_says_so()
    {
        using var model = Open(Folder(new ContractModelSpec { Head = "rtd" }, config: c => c["architectures"] = OtherArchitecture),
            role: ModelRole.ReplacedTokenDetection);

        Assert.Equal("as asked", model.RoleReason);
        Assert.Contains("names ElectraForMaskedLM (a mlm model); checked as rtd as asked", Assert.Single(model.Notes), StringComparison.Ordinal);
    }

    [Fact]
    public void File_digests_are_the_sha256_of_each_file()
    {
        var folder = Folder(new ContractModelSpec());
        using var model = Open(folder);

        var digests = model.ComputeFileDigests();

        Assert.Equal(["model.onnx", "tokenizer.json", "config.json"], digests.Select(d => d.Name));
        Assert.All(digests, d =>
        {
            var bytes = File.ReadAllBytes(Path.Combine(folder, d.Name));
            Assert.Equal(bytes.Length, d.Length);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), d.Sha256);
        });
    }

    // --- one test per broken contract ---------------------------------------------------------------------------

    [Fact]
    public void A_folder_that_does_not_exist_is_named()
    {
        Assert.Equal($"model folder not found: '{_scratch.File("nope")}'", Problem(_scratch.File("nope")));
    }

    [Theory]
    [InlineData("model.onnx")]
    [InlineData("tokenizer.json")]
    [InlineData("config.json")]
    public void A_missing_file_is_named(string file)
    {
        var folder = Folder(new ContractModelSpec());
        File.Delete(Path.Combine(folder, file));

        var error = Assert.Throws<ModelContractException>(() => Open(folder).Dispose());

        Assert.Contains($"missing {file} (a model folder holds model.onnx, tokenizer.json and config.json)", error.Problems);
    }

    [Fact]
    public void A_corrupt_model_file_is_refused()
    {
        var folder = Folder(new ContractModelSpec());
        File.WriteAllBytes(Path.Combine(folder, "model.onnx"), [0x08, 0x08, 0x3a, 0xff, 0x01]);

        Assert.Contains("is not a valid ONNX model", Problem(folder), StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_input_names_are_refused_with_the_names_found()
    {
        var problem = Problem(Folder(new ContractModelSpec { IdsName = "ids" }));

        Assert.StartsWith("model.onnx has no input 'input_ids' (its inputs are 'ids', 'attention_mask')", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_input_outside_the_contract_is_refused()
    {
        Assert.StartsWith("model.onnx has an input 'position_ids' outside the contract", Problem(Folder(new ContractModelSpec { ExtraInput = "position_ids" })), StringComparison.Ordinal);
    }

    [Fact]
    public void An_input_with_a_fixed_size_is_refused()
    {
        var folder = _scratch.File("fixed");
        var b = new OnnxGraphBuilder();
        var ids = b.Input("input_ids", TensorElementType.Int64, 1, 8);
        b.Input("attention_mask", TensorElementType.Int64, 1, 8);
        b.Output(b.Node("Gather", [b.Weight("e", [40, 4], new float[160]), ids]), "logits", TensorElementType.Float, 1, 8, 4);
        Directory.CreateDirectory(folder);
        b.Build().Save(Path.Combine(folder, "model.onnx"));
        File.WriteAllText(Path.Combine(folder, "config.json"), """{"model_type": "roberta", "architectures": ["RobertaForMaskedLM"]}""");
        ModelFolders.WriteTokenizer(Path.Combine(folder, "tokenizer.json"), 40);

        var error = Assert.Throws<ModelContractException>(() => Open(folder).Dispose());

        Assert.Contains("input input_ids: int64[1, 8] has a fixed batch or sequence size", error.Problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Logits_of_the_wrong_rank_are_refused()
    {
        var problem = Problem(Folder(new ContractModelSpec { Head = "nli" }), role: ModelRole.MaskedLm);

        Assert.Equal("output logits: float32[batch, 3] has rank 2; a mlm model's logits are [batch, sequence, vocabulary]", problem);
    }

    [Fact]
    public void A_declared_class_count_that_does_not_fit_the_role_is_refused()
    {
        var problem = Problem(Folder(new ContractModelSpec { Head = "nli", Labels = 2 }, config: c =>
            c["id2label"] = new Dictionary<string, string> { ["0"] = "entailment", ["1"] = "neutral", ["2"] = "contradiction" }));

        Assert.Equal("output logits: float32[batch, 2] has 2 classes on its last axis; an nli model has exactly 3 (entailment, neutral, contradiction)", problem);
    }

    [Fact]
    public void A_symbolic_class_axis_is_checked_by_a_probe_run()
    {
        var problem = Problem(Folder(new ContractModelSpec { Head = "ner", SymbolicClasses = true }, config: c =>
            c["id2label"] = new Dictionary<string, string> { ["0"] = "O", ["1"] = "B-PER", ["2"] = "I-PER" }));

        Assert.Equal("a probe run produced logits of shape [2, 4, 4]: 4 classes, but config.json id2label has 3 labels", problem);
    }

    [Fact]
    public void Unknown_nli_labels_are_refused()
    {
        var problem = Problem(Folder(new ContractModelSpec { Head = "nli" }, config: c =>
            c["id2label"] = new Dictionary<string, string> { ["0"] = "entailment", ["1"] = "neutral", ["2"] = "LABEL_2" }));

        Assert.Equal("config.json id2label (entailment, neutral, LABEL_2) has label 'LABEL_2' that an nli model does not have and lacks contradiction; " +
            "an nli model's labels are entailment, neutral and contradiction (in any order and case)", problem);
    }

    [Fact]
    public void Missing_nli_labels_are_refused()
    {
        var problem = Problem(Folder(new ContractModelSpec { Head = "nli" }, config: c => c.Remove("id2label")));

        Assert.Equal("config.json has no id2label; an nli model needs the labels entailment, neutral and contradiction (in any order and case)", problem);
    }

    [Fact]
    public void Ner_labels_that_are_not_bio_tags_are_refused()
    {
        var problem = Problem(Folder(new ContractModelSpec { Head = "ner", Labels = 3 }, config: c =>
            c["id2label"] = new Dictionary<string, string> { ["0"] = "O", ["1"] = "PERSON", ["2"] = "B-LOC" }));

        Assert.StartsWith("config.json id2label has label 'PERSON' that are not BIO tags", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_vocabulary_smaller_than_the_tokenizers_is_refused()
    {
        var problem = Problem(Folder(new ContractModelSpec { Head = "mlm" }), tokenizer: 50);

        Assert.StartsWith("the model's vocabulary is smaller than the tokenizer's: its logits cover 40 ids but tokenizer.json has 50", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_embedding_too_small_for_the_tokenizer_fails_the_probe_with_a_hint()
    {
        var problem = Problem(Folder(new ContractModelSpec { Head = "rtd" }, config: c => c.Remove("vocab_size")), tokenizer: 45);

        Assert.StartsWith("a probe run on a batch of 2×4 tokens failed:", problem, StringComparison.Ordinal);
        Assert.Contains("Token id 44 (the tokenizer's largest) may be beyond the model's embedding table", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void External_data_outside_the_folder_is_refused_before_the_runtime_reads_the_model()
    {
        var folder = Folder(new ContractModelSpec());
        File.WriteAllBytes(_scratch.File("stolen.bin"), new byte[16]);
        var b = new OnnxGraphBuilder();
        var ids = b.Input("input_ids", TensorElementType.Int64, "batch", "sequence");
        b.Input("attention_mask", TensorElementType.Int64, "batch", "sequence");
        b.Add(OnnxTensor.External("embeddings", TensorElementType.Float, [2, 2], "../stolen.bin", 0, 16));
        b.Output(b.Node("Gather", ["embeddings", ids]), "logits", TensorElementType.Float, "batch", "sequence", 2);
        b.Build().Save(Path.Combine(folder, "model.onnx"));

        Assert.Contains("loads its data from '../stolen.bin', which is outside the model folder", Problem(folder), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unparsable_config_is_reported_with_line_and_position()
    {
        var folder = Folder(new ContractModelSpec());
        File.WriteAllText(Path.Combine(folder, "config.json"), "{\n  \"model_type\": \"roberta\",\n  \"vocab_size\": 40,,\n}\n");

        var error = Assert.Throws<ModelContractException>(() => Open(folder).Dispose());

        Assert.StartsWith("config.json is not valid JSON at line 3, position 20:", error.Problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_field_of_the_wrong_type_is_named()
    {
        var problem = Problem(Folder(new ContractModelSpec(), config: c => c["max_position_embeddings"] = "512"));

        Assert.Equal("config.json: max_position_embeddings must be a non-negative integer; it is the string \"512\"", problem);
    }

    [Fact]
    public void A_role_that_cannot_be_inferred_must_be_given()
    {
        var problem = Problem(Folder(new ContractModelSpec(), config: c => c.Remove("architectures")));

        Assert.Equal("cannot tell the model's role: config.json names no architectures; state it explicitly (mlm, nli, rtd or ner, e.g. " + SettingNames.OptionName(Setting.Role) + " nli)", problem);
    }

    [Fact]
    public void Several_problems_are_all_reported()
    {
        var folder = Folder(new ContractModelSpec { Head = "nli", IdsName = "ids" }, config: c => c.Remove("id2label"));
        File.Delete(Path.Combine(folder, "tokenizer.json"));

        var error = Assert.Throws<ModelContractException>(() => Open(folder, tokenizer: null).Dispose());

        Assert.Equal(3, error.Problems.Count);
        Assert.Contains("has 3 problems:", error.Message, StringComparison.Ordinal);
    }
}
