using System.Text.Json.Nodes;
using Riverbed.Inference;
using Riverbed.Inference.Onnx;
using Riverbed.ModelKit;

// tests/Shared has a contract-test EncoderSpec of its own; this file means the generator's.

namespace Riverbed.Core.Tests.ModelKit;

public sealed class EncoderGeneratorTests
{
    private static EncoderSpec Small(EncoderHead head = EncoderHead.Mlm, EncoderFamily family = EncoderFamily.Bert) =>
        EncoderSpec.Create(family, head, vocabSize: 300) with { HiddenSize = 16, IntermediateSize = 32, LayerCount = 1 };

    [Fact]
    public void The_same_spec_always_produces_the_same_bytes()
    {
        var first = EncoderGenerator.Generate(Small()).Model.ToArray();
        var second = EncoderGenerator.Generate(Small()).Model.ToArray();
        Assert.Equal(first, second);
    }

    [Fact]
    public void Another_seed_gives_other_weights_of_the_same_size()
    {
        var first = EncoderGenerator.Generate(Small()).Model.ToArray();
        var other = EncoderGenerator.Generate(Small() with { Seed = 2 }).Model.ToArray();
        Assert.Equal(first.Length, other.Length);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Weights_are_a_fixed_function_of_the_seed_and_the_tensor_name()
    {
        // Pinned values: the generator must not silently change what a seed means (stale demo stamps rely on it).
        var weights = EncoderWeights.Generate(Small());
        var word = weights["embeddings.word_embeddings.weight"];
        Assert.Equal([300L, 16L], word.Dims);
        var range = 0.02f * MathF.Sqrt(3f);
        Assert.All(word.Values, value => Assert.InRange(value, -range, range));
        Assert.All(word.Values.AsSpan(0, 16).ToArray(), value => Assert.Equal(0f, value)); // the [PAD] row
        var again = EncoderWeights.Generate(Small() with { LayerCount = 2 });
        Assert.Equal(word.Values, again["embeddings.word_embeddings.weight"].Values);
        Assert.Equal(weights["encoder.layer.0.attention.query.weight"].Values, again["encoder.layer.0.attention.query.weight"].Values);
    }

    [Fact]
    public void The_random_source_is_splitmix64()
    {
        // Reference outputs of SplitMix64 seeded with 0 (Vigna's published test vector starts with these).
        var random = new SeededRandom(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, random.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, random.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, random.NextUInt64());
    }

    [Fact]
    public void Float16_weights_halve_the_file_and_round_the_weights()
    {
        var full = EncoderGenerator.Generate(Small()).Model.ToArray();
        var half = EncoderGenerator.Generate(Small() with { Weights = WeightPrecision.Float16 }).Model.ToArray();
        Assert.InRange(half.Length, full.Length * 0.45, full.Length * 0.6);
        var weights = EncoderWeights.Generate(Small() with { Weights = WeightPrecision.Float16 });
        Assert.All(weights.All.SelectMany(t => t.Values), value => Assert.Equal(value, (float)(Half)value));
    }

    [Fact]
    public void Inputs_and_output_have_dynamic_batch_and_sequence_axes()
    {
        var model = EncoderGenerator.Generate(Small()).Model;
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], model.Graph.Inputs.Select(i => i.Name));
        Assert.All(model.Graph.Inputs, input =>
        {
            Assert.Equal(TensorElementType.Int64, input.ElementType);
            Assert.Equal(["batch", "sequence"], input.Shape.Select(d => d.ToString()));
        });
        var output = Assert.Single(model.Graph.Outputs);
        Assert.Equal("logits", output.Name);
        Assert.Equal(["batch", "sequence", "300"], output.Shape.Select(d => d.ToString()));
    }

    [Theory]
    [InlineData(EncoderHead.Nli, EncoderFamily.Roberta, "batch,3")]
    [InlineData(EncoderHead.Rtd, EncoderFamily.Electra, "batch,sequence")]
    [InlineData(EncoderHead.Ner, EncoderFamily.Bert, "batch,sequence,9")]
    public void Each_head_declares_its_output_shape(EncoderHead head, EncoderFamily family, string shape)
    {
        var model = EncoderGenerator.Generate(Small(head, family)).Model;
        Assert.Equal(shape, string.Join(',', model.Graph.Outputs[0].Shape));
    }

    [Fact]
    public void A_roberta_encoder_has_no_token_type_input_and_int32_inputs_are_available()
    {
        var model = EncoderGenerator.Generate(Small(family: EncoderFamily.Roberta) with { InputElementType = TensorElementType.Int32 }).Model;
        Assert.Equal(["input_ids", "attention_mask"], model.Graph.Inputs.Select(i => i.Name));
        Assert.All(model.Graph.Inputs, input => Assert.Equal(TensorElementType.Int32, input.ElementType));
    }

    [Fact]
    public void The_graph_uses_opset_17_layer_normalization_and_no_contrib_operators()
    {
        var model = EncoderGenerator.Generate(Small()).Model;
        Assert.Equal(new OnnxOpset("", 17), Assert.Single(model.Opsets));
        Assert.Equal(4, model.Graph.Nodes.Count(n => n.OpType == "LayerNormalization")); // embeddings, 2 per layer, MLM head
        Assert.Contains(model.Graph.Nodes, n => n.OpType == "Erf");
        Assert.All(model.Graph.Nodes, n => Assert.Equal("", n.Domain));
    }

    [Fact]
    public void Config_json_carries_what_a_hf_export_has()
    {
        var spec = Small(EncoderHead.Nli, EncoderFamily.Roberta) with { Labels = ["entailment", "Neutral", "CONTRADICTION"] };
        var config = JsonNode.Parse(EncoderGenerator.Generate(spec).ConfigJson)!.AsObject();
        Assert.Equal("roberta", (string?)config["model_type"]);
        Assert.Equal("RobertaForSequenceClassification", (string?)config["architectures"]![0]);
        Assert.Equal(300, (int)config["vocab_size"]!);
        Assert.Equal(514, (int)config["max_position_embeddings"]!);
        Assert.Equal(1, (int)config["type_vocab_size"]!);
        Assert.Equal(1, (int)config["pad_token_id"]!);
        Assert.Equal(16, (int)config["hidden_size"]!);
        Assert.Equal(1, (int)config["num_hidden_layers"]!);
        Assert.Equal(1e-5, (double)config["layer_norm_eps"]!);
        Assert.Equal("entailment", (string?)config["id2label"]!["0"]);
        Assert.Equal("CONTRADICTION", (string?)config["id2label"]!["2"]);
        Assert.Equal(1, (int)config["label2id"]!["Neutral"]!);
    }

    [Fact]
    public void Config_json_is_written_like_python_with_sorted_keys()
    {
        var text = EncoderGenerator.Generate(Small(EncoderHead.Rtd, EncoderFamily.Electra)).ConfigJson;
        Assert.StartsWith("{\n  \"architectures\": [\n    \"ElectraForPreTraining\"\n  ],\n", text, StringComparison.Ordinal);
        Assert.Contains("\"layer_norm_eps\": 1e-12,", text, StringComparison.Ordinal);
        Assert.DoesNotContain("id2label", text, StringComparison.Ordinal);
        Assert.EndsWith("}\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Saving_writes_a_model_folder()
    {
        using var scratch = new ScratchFolder("encoder");
        var tokenizer = TestPaths.Fixture("tokenizers", "bert-base-uncased", "tokenizer.json");
        var folder = scratch.File("mlm");
        var generated = EncoderGenerator.Generate(Small());
        generated.SaveTo(folder, tokenizer);
        Assert.Equal(generated.Model.ToArray(), File.ReadAllBytes(Path.Combine(folder, "model.onnx")));
        Assert.Equal(generated.ConfigJson, File.ReadAllText(Path.Combine(folder, "config.json")));
        Assert.Equal(File.ReadAllBytes(tokenizer), File.ReadAllBytes(Path.Combine(folder, "tokenizer.json")));
        Assert.Equal(["config.json", "model.onnx", "tokenizer.json"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData("HiddenSize")]
    [InlineData("Pad")]
    [InlineData("Labels")]
    [InlineData("Rtd")]
    public void Inconsistent_specs_are_refused_naming_the_field(string field)
    {
        var spec = field switch
        {
            "HiddenSize" => Small() with { HiddenSize = 30, HeadCount = 4 },
            "Pad" => Small() with { PadTokenId = 300 },
            "Labels" => Small(EncoderHead.Nli) with { Labels = ["a", "b"] },
            _ => Small(EncoderHead.Rtd, EncoderFamily.Bert),
        };
        var error = Assert.Throws<ArgumentException>(() => EncoderGenerator.Generate(spec));
        Assert.Contains(field switch { "Pad" => "PadTokenId", "Labels" => "3 labels", "Rtd" => "Electra", _ => field }, error.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Presets_have_the_published_shapes()
    {
        var large = EncoderSpec.Create(EncoderFamily.Roberta, EncoderHead.Mlm, 50265, EncoderSize.Large);
        Assert.Equal((1024, 24, 16, 4096), (large.HiddenSize, large.LayerCount, large.HeadCount, large.IntermediateSize));
        var baseSize = EncoderSpec.Create(EncoderFamily.Bert, EncoderHead.Mlm, 30522, EncoderSize.Base);
        Assert.Equal((768, 12, 12, 3072), (baseSize.HiddenSize, baseSize.LayerCount, baseSize.HeadCount, baseSize.IntermediateSize));
    }

    [Theory]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(-2.4, -0.9993114861033550)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(5.5, 0.9999999999999927)]
    public void The_reference_erf_is_accurate(double x, double expected) =>
        Assert.Equal(expected, ReferenceEncoder.Erf(x), 1e-14);
}
