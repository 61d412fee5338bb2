using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Riverbed.Inference;
using Riverbed.Inference.Onnx;
using Riverbed.ModelKit;
using Riverbed.ModelKit.Onnx;

namespace Riverbed.Testing;

/// <summary>A tensor to write into a safetensors file.</summary>
internal sealed record SafetensorsEntry(string Name, string DType, long[] Shape, byte[] Data);

/// <summary>
/// What the pull tests publish on the fake Hub: tiny generated models shaped like the public exports (fill-mask,
/// NLI, NER with logits; an ELECTRA feature extractor whose only output is last_hidden_state), the shared fixture
/// tokenizers, and an ELECTRA checkpoint's model.safetensors with seeded head weights.
/// </summary>
internal static class HubModels
{
    public const int RtdHidden = 8;

    public static string Tokenizer(string name) => TestPaths.Fixture("tokenizers", name, "tokenizer.json");

    /// <summary>A generated encoder's files as an export repository lays them out (onnx/model.onnx, tokenizer.json, config.json).</summary>
    public static Dictionary<string, byte[]> Export(EncoderFamily family, EncoderHead head, string tokenizer, ulong seed = 1)
    {
        var profile = TokenizerProfile.FromTokenizerJson(Tokenizer(tokenizer));
        var spec = EncoderSpec.Create(family, head, profile.VocabSize, EncoderSize.Tiny, seed) with
        {
            PadTokenId = profile.PadId,
            MaxPositions = family == EncoderFamily.Roberta ? 512 + profile.PadId + 1 : 512,
            LayerCount = 1,
        };
        var model = EncoderGenerator.Generate(spec);
        return new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["onnx/model.onnx"] = model.Model.ToArray(),
            ["tokenizer.json"] = File.ReadAllBytes(Tokenizer(tokenizer)),
            ["config.json"] = Encoding.UTF8.GetBytes(model.ConfigJson),
        };
    }

    /// <summary>
    /// An ELECTRA "feature extraction" export: hidden = tanh(E[input_ids] + T[token_type_ids]) · mask, output
    /// <c>last_hidden_state</c> [batch, sequence, <see cref="RtdHidden"/>] (float16 when asked), and no head.
    /// </summary>
    public static OnnxModel FeatureExtractor(int vocabulary, bool float16Output = false, long opset = 17, ulong seed = 3)
    {
        var random = new Random((int)seed);
        float[] Randoms(int count) => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        var b = new OnnxGraphBuilder("electra_features");
        var ids = b.Input("input_ids", TensorElementType.Int64, "batch_size", "sequence_length");
        var mask = b.Input("attention_mask", TensorElementType.Int64, "batch_size", "sequence_length");
        var types = b.Input("token_type_ids", TensorElementType.Int64, "batch_size", "sequence_length");
        var words = b.Node("Gather", [b.Weight("embeddings.word", [vocabulary, RtdHidden], Randoms(vocabulary * RtdHidden)), ids]);
        var typed = b.Node("Gather", [b.Weight("embeddings.type", [2, RtdHidden], Randoms(2 * RtdHidden)), types]);
        var hidden = b.Node("Tanh", [b.Node("Add", [words, typed])]);
        var maskFloat = b.Node("Cast", [mask], OnnxAttribute.Int("to", (long)TensorElementType.Float));
        var maskAxis = opset >= 13
            ? b.Node("Unsqueeze", [maskFloat, b.Int64s("mask_axis", 2)])
            : b.Node("Unsqueeze", [maskFloat], OnnxAttribute.Ints("axes", 2));
        var masked = b.Node("Mul", [hidden, maskAxis]);
        if (float16Output)
        {
            masked = b.Node("Cast", [masked], OnnxAttribute.Int("to", (long)TensorElementType.Float16));
        }
        b.Output(masked, "last_hidden_state", float16Output ? TensorElementType.Float16 : TensorElementType.Float,
            "batch_size", "sequence_length", RtdHidden);
        return b.Build(opset);
    }

    /// <summary>An ELECTRA export repository: the feature extractor, the electra tokenizer and a config naming the head's shape.</summary>
    public static Dictionary<string, byte[]> ElectraFeatureExport(string hiddenAct = "gelu")
    {
        var tokenizer = Tokenizer("electra-base-discriminator");
        var vocabulary = TokenizerProfile.FromTokenizerJson(tokenizer).VocabSize;
        var config = string.Create(CultureInfo.InvariantCulture,
            $$"""{"architectures": ["ElectraForPreTraining"], "model_type": "electra", "hidden_size": {{RtdHidden}}, "hidden_act": "{{hiddenAct}}", "vocab_size": {{vocabulary}}, "max_position_embeddings": 512, "type_vocab_size": 2, "pad_token_id": 0}""");
        return new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["onnx/model.onnx"] = FeatureExtractor(vocabulary).ToArray(),
            ["onnx/model_fp16.onnx"] = FeatureExtractor(vocabulary, float16Output: true).ToArray(),
            ["tokenizer.json"] = File.ReadAllBytes(tokenizer),
            ["config.json"] = Encoding.UTF8.GetBytes(config),
        };
    }

    /// <summary>The head's four tensors with seeded values, F32, plus an unrelated encoder tensor before them.</summary>
    public static List<SafetensorsEntry> HeadTensors(int hidden = RtdHidden, ulong seed = 11)
    {
        var random = new Random((int)seed);
        byte[] Floats(int count) => MemoryMarshal.AsBytes<float>([.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1))]).ToArray();
        return
        [
            new("electra.embeddings.word_embeddings.weight", "F32", [4, hidden], Floats(4 * hidden)),
            new("discriminator_predictions.dense.weight", "F32", [hidden, hidden], Floats(hidden * hidden)),
            new("discriminator_predictions.dense.bias", "F32", [hidden], Floats(hidden)),
            new("discriminator_predictions.dense_prediction.weight", "F32", [1, hidden], Floats(hidden)),
            new("discriminator_predictions.dense_prediction.bias", "F32", [1], Floats(1)),
        ];
    }

    /// <summary>Writes a safetensors file: 8-byte little-endian header length, the JSON header, the tensors back to back.</summary>
    public static byte[] Safetensors(IEnumerable<SafetensorsEntry> tensors, string? headerOverride = null)
    {
        var entries = tensors.ToList();
        var json = new StringBuilder("{\"__metadata__\": {\"format\": \"pt\"}");
        long offset = 0;
        foreach (var entry in entries)
        {
            json.Append(CultureInfo.InvariantCulture,
                $", \"{entry.Name}\": {{\"dtype\": \"{entry.DType}\", \"shape\": [{string.Join(", ", entry.Shape)}], \"data_offsets\": [{offset}, {offset + entry.Data.Length}]}}");
            offset += entry.Data.Length;
        }
        json.Append('}');
        var header = Encoding.UTF8.GetBytes(headerOverride ?? json.ToString());
        var file = new List<byte>(BitConverter.GetBytes((ulong)header.Length));
        file.AddRange(header);
        foreach (var entry in entries)
        {
            file.AddRange(entry.Data);
        }
        return [.. file];
    }
}
