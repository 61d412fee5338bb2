using System.Text.Json;
using Riverbed.Inference;
using Riverbed.Inference.Onnx;
using Riverbed.ModelKit.Onnx;

namespace Riverbed.Testing;

/// <summary>
/// Small ONNX models built in code for the inference tests: tiny graphs whose outputs can be computed by hand, and
/// model folders shaped like the contract (input_ids / attention_mask → logits) with every way of breaking it.
/// </summary>
internal static class TestModels
{
    /// <summary>y = x·W + b with x float[batch, 3], W = [[1,2],[3,4],[5,6]], b = [0.5, -1].</summary>
    public static OnnxModel Affine()
    {
        var b = new OnnxGraphBuilder("affine");
        var x = b.Input("x", TensorElementType.Float, "batch", 3);
        var product = b.Node("MatMul", [x, b.Weight("W", [3, 2], [1, 2, 3, 4, 5, 6])]);
        var y = b.Node("Add", [product, b.Weight("bias", [2], [0.5f, -1f])]);
        b.Output(y, "y", TensorElementType.Float, "batch", 2);
        return b.Build();
    }

    /// <summary>float16 in, the same float16 out ("same"), and its float32 cast ("wide").</summary>
    public static OnnxModel Float16Echo()
    {
        var b = new OnnxGraphBuilder("float16");
        var x = b.Input("x", TensorElementType.Float16, "n");
        b.Output(b.Node("Identity", [x]), "same", TensorElementType.Float16, "n");
        b.Output(b.Node("Cast", [x], OnnxAttribute.Int("to", (long)TensorElementType.Float)), "wide", TensorElementType.Float, "n");
        return b.Build();
    }

    /// <summary>Rows of a 4×2 table picked by int32 indices: row i is [i, 10·i].</summary>
    public static OnnxModel Int32Lookup()
    {
        var b = new OnnxGraphBuilder("lookup");
        var ids = b.Input("ids", TensorElementType.Int32, "n");
        var rows = b.Node("Gather", [b.Weight("table", [4, 2], [0, 0, 1, 10, 2, 20, 3, 30]), ids]);
        b.Output(rows, "rows", TensorElementType.Float, "n", 2);
        return b.Build();
    }

    /// <summary>
    /// <paramref name="steps"/> chained MatMuls of x [size, size] with the identity: takes long enough to cancel, and
    /// the runtime checks its terminate flag between the nodes.
    /// </summary>
    public static OnnxModel SlowChain(int steps, int size)
    {
        var b = new OnnxGraphBuilder("slow");
        var identity = new float[size * size];
        for (var i = 0; i < size; i++)
        {
            identity[(i * size) + i] = 1;
        }
        var w = b.Weight("identity", [size, size], identity);
        var value = b.Input("x", TensorElementType.Float, size, size);
        for (var i = 0; i < steps; i++)
        {
            value = b.Node("MatMul", [value, w]);
        }
        b.Output(value, "y", TensorElementType.Float, size, size);
        return b.Build();
    }

    /// <summary>x float[n] → x expanded to the shape given as an input: asks the allocator for as much as you like.</summary>
    public static OnnxModel Expander()
    {
        var b = new OnnxGraphBuilder("expand");
        var x = b.Input("x", TensorElementType.Float, 1);
        var shape = b.Input("shape", TensorElementType.Int64, 2);
        b.Output(b.Node("Expand", [x, shape]), "y", TensorElementType.Float, "rows", "columns");
        return b.Build();
    }

    public static string Save(this OnnxModel model, ScratchFolder folder, string name = "model.onnx")
    {
        var path = folder.File(name);
        model.Save(path);
        return path;
    }
}

/// <summary>How to build a contract-shaped model; every knob breaks (or bends) one part of the contract.</summary>
internal sealed record ContractModelSpec
{
    public string Head { get; init; } = "mlm"; // mlm, nli, rtd, ner

    /// <summary>Rows of the embedding table, and the logits' last axis for an MLM.</summary>
    public int Vocabulary { get; init; } = 40;

    public int Hidden { get; init; } = 4;

    /// <summary>Classes of the nli or ner head.</summary>
    public int Labels { get; init; } = 3;

    public bool TokenTypes { get; init; }

    public TensorElementType IdType { get; init; } = TensorElementType.Int64;

    public string IdsName { get; init; } = "input_ids";

    public string MaskName { get; init; } = "attention_mask";

    public string OutputName { get; init; } = "logits";

    /// <summary>Declare the logits' last axis symbolically; for ner, also make its size follow the sequence length.</summary>
    public bool SymbolicClasses { get; init; }

    /// <summary>rtd: keep the trailing axis of size 1 ([B,T,1] instead of [B,T]).</summary>
    public bool TrailingAxis { get; init; }

    /// <summary>Add a second, extra input the contract does not know.</summary>
    public string? ExtraInput { get; init; }

    public OnnxModel Build()
    {
        var b = new OnnxGraphBuilder(Head);
        var ids = b.Input(IdsName, IdType, "batch", "sequence");
        var mask = b.Input(MaskName, IdType, "batch", "sequence");
        var hidden = b.Node("Gather", [b.Weight("embeddings", [Vocabulary, Hidden], Ramp(Vocabulary * Hidden, 0.01f)), ids]);
        if (TokenTypes)
        {
            var types = b.Input("token_type_ids", IdType, "batch", "sequence");
            hidden = b.Node("Add", [hidden, b.Node("Gather", [b.Weight("type_embeddings", [2, Hidden], Ramp(2 * Hidden, 0.1f)), types])]);
        }
        if (ExtraInput is not null)
        {
            var extra = b.Input(ExtraInput, IdType, "batch", "sequence");
            mask = b.Node("Mul", [mask, extra]);
        }
        var gate = b.Node("Unsqueeze", [b.Node("Cast", [mask], OnnxAttribute.Int("to", (long)TensorElementType.Float)), b.Int64s("last_axis", -1)]);
        hidden = b.Node("Mul", [hidden, gate]);
        OnnxDimension classes;
        string logits;
        switch (Head)
        {
            case "mlm":
                logits = b.Node("MatMul", [hidden, b.Weight("decoder", [Hidden, Vocabulary], Ramp(Hidden * Vocabulary, 0.02f))]);
                classes = SymbolicClasses ? "vocabulary" : Vocabulary;
                b.Output(logits, OutputName, TensorElementType.Float, "batch", "sequence", classes);
                break;
            case "nli":
                var pooled = b.Node("ReduceMean", [hidden], OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 0));
                logits = b.Node("MatMul", [pooled, b.Weight("classifier", [Hidden, Labels], Ramp(Hidden * Labels, 0.3f))]);
                classes = SymbolicClasses ? "classes" : Labels;
                b.Output(logits, OutputName, TensorElementType.Float, "batch", classes);
                break;
            case "rtd":
                logits = b.Node("MatMul", [hidden, b.Weight("discriminator", [Hidden, 1], Ramp(Hidden, 0.5f))]);
                if (TrailingAxis)
                {
                    b.Output(logits, OutputName, TensorElementType.Float, "batch", "sequence", 1);
                }
                else
                {
                    b.Output(b.Node("Squeeze", [logits, b.Int64s("squeeze_axis", -1)]), OutputName, TensorElementType.Float, "batch", "sequence");
                }
                break;
            case "ner":
                // SymbolicClasses: a class axis as long as the sequence (h·hᵀ), which no static shape can reveal.
                logits = SymbolicClasses
                    ? b.Node("MatMul", [hidden, b.Node("Transpose", [hidden], OnnxAttribute.Ints("perm", 0, 2, 1))])
                    : b.Node("MatMul", [hidden, b.Weight("tagger", [Hidden, Labels], Ramp(Hidden * Labels, 0.2f))]);
                classes = SymbolicClasses ? "labels" : Labels;
                b.Output(logits, OutputName, TensorElementType.Float, "batch", "sequence", classes);
                break;
            default:
                throw new ArgumentException($"unknown head {Head}");
        }
        return b.Build();
    }

    private static float[] Ramp(int count, float step)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (((i * 7) % 13) - 6) * step;
        }
        return values;
    }
}

/// <summary>Writes a model folder: model.onnx, config.json and a minimal tokenizer.json.</summary>
internal static class ModelFolders
{
    public static readonly string[] NliLabels = ["CONTRADICTION", "NEUTRAL", "ENTAILMENT"];

    public static readonly string[] NerLabels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

    public static string Write(string folder, ContractModelSpec spec, int? tokenizerVocabulary = null, Action<Dictionary<string, object?>>? editConfig = null)
    {
        Directory.CreateDirectory(folder);
        spec.Build().Save(Path.Combine(folder, "model.onnx"));
        var config = DefaultConfig(spec);
        editConfig?.Invoke(config);
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(config, Indented));
        WriteTokenizer(Path.Combine(folder, "tokenizer.json"), tokenizerVocabulary ?? spec.Vocabulary);
        return folder;
    }

    public static Dictionary<string, object?> DefaultConfig(ContractModelSpec spec)
    {
        var config = new Dictionary<string, object?>
        {
            ["model_type"] = spec.Head == "rtd" ? "electra" : "roberta",
            ["architectures"] = new[]
            {
                spec.Head switch
                {
                    "mlm" => "RobertaForMaskedLM",
                    "nli" => "RobertaForSequenceClassification",
                    "rtd" => "ElectraForPreTraining",
                    _ => "RobertaForTokenClassification",
                },
            },
            ["vocab_size"] = spec.Vocabulary,
            ["max_position_embeddings"] = 64,
            ["type_vocab_size"] = spec.TokenTypes ? 2 : 1,
            ["pad_token_id"] = 1,
        };
        if (spec.Head is "nli" or "ner")
        {
            var labels = spec.Head == "nli" ? NliLabels : NerLabels;
            config["id2label"] = labels.Take(spec.Labels).Select((label, i) => (label, i)).ToDictionary(p => p.i.ToString(System.Globalization.CultureInfo.InvariantCulture), p => (object?)p.label);
        }
        return config;
    }

    /// <summary>A tokenizer.json with <paramref name="size"/> ids: a WordPiece vocab and two added special tokens at the end.</summary>
    public static void WriteTokenizer(string path, int size)
    {
        var vocab = new Dictionary<string, int>();
        for (var i = 0; i < size - 2; i++)
        {
            vocab[$"tok{i}"] = i;
        }
        var tokenizer = new Dictionary<string, object>
        {
            ["version"] = "1.0",
            ["added_tokens"] = new[]
            {
                new Dictionary<string, object> { ["id"] = size - 2, ["content"] = "<mask>", ["special"] = true },
                new Dictionary<string, object> { ["id"] = size - 1, ["content"] = "<extra>", ["special"] = true },
            },
            ["model"] = new Dictionary<string, object> { ["type"] = "WordPiece", ["unk_token"] = "tok0", ["vocab"] = vocab },
        };
        File.WriteAllText(path, JsonSerializer.Serialize(tokenizer, Indented));
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
