using System.Globalization;
using Riverbed.Inference.Onnx;

namespace Riverbed.Inference.Hub;

/// <summary>
/// ELECTRA's replaced-token-detection head (HF <c>ElectraDiscriminatorPredictions</c>): a dense layer hidden → hidden,
/// the config's activation, and a dense layer hidden → 1 whose output, squeezed, is one logit per token. Public ONNX
/// exports of the discriminators stop at the encoder's last hidden state; this class reads the head's four tensors from
/// the original checkpoint and appends the head to such an export, so no Python is needed.
/// </summary>
public sealed class ElectraDiscriminatorHead
{
    public const string DenseWeightName = "discriminator_predictions.dense.weight";
    public const string DenseBiasName = "discriminator_predictions.dense.bias";
    public const string PredictionWeightName = "discriminator_predictions.dense_prediction.weight";
    public const string PredictionBiasName = "discriminator_predictions.dense_prediction.bias";

    /// <summary>The encoder output the head reads (what feature-extraction exports call their output).</summary>
    public const string HiddenStateOutput = "last_hidden_state";

    private const string Prefix = "riverbed_rtd_head/";

    private ElectraDiscriminatorHead(int hiddenSize, HeadActivation activation, float[] denseWeight, float[] denseBias,
        float[] predictionWeight, float predictionBias)
    {
        HiddenSize = hiddenSize;
        Activation = activation;
        DenseWeight = denseWeight;
        DenseBias = denseBias;
        PredictionWeight = predictionWeight;
        PredictionBias = predictionBias;
    }

    public int HiddenSize { get; }

    public HeadActivation Activation { get; }

    /// <summary>[hidden_out, hidden_in], row-major, as torch's Linear stores it (y = x·Wᵀ + b).</summary>
    public IReadOnlyList<float> DenseWeight { get; }

    public IReadOnlyList<float> DenseBias { get; }

    /// <summary>[hidden]: the single row of the prediction layer's [1, hidden] weight.</summary>
    public IReadOnlyList<float> PredictionWeight { get; }

    public float PredictionBias { get; }

    /// <summary>The tensors a checkpoint must hold for the head, with their shapes for a given hidden size.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Tensors(int hiddenSize) =>
    [
        (DenseWeightName, [hiddenSize, hiddenSize]),
        (DenseBiasName, [hiddenSize]),
        (PredictionWeightName, [1, hiddenSize]),
        (PredictionBiasName, [1]),
    ];

    /// <summary>
    /// Builds the head from a checkpoint's header and the bytes of its four tensors (read by <paramref name="read"/>,
    /// e.g. with HTTP range requests). Shapes must match <paramref name="hiddenSize"/> exactly.
    /// </summary>
    public static ElectraDiscriminatorHead FromCheckpoint(SafetensorsHeader header, Func<SafetensorsTensor, byte[]> read,
        int hiddenSize, HeadActivation activation)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(read);
        if (hiddenSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(hiddenSize), hiddenSize, "the hidden size must be positive");
        }
        var values = new List<float[]>();
        foreach (var (name, shape) in Tensors(hiddenSize))
        {
            var tensor = header.Require(name, shape);
            values.Add(SafetensorsHeader.ToFloats(tensor, read(tensor)));
        }
        return new ElectraDiscriminatorHead(hiddenSize, activation, values[0], values[1], values[2], values[3][0]);
    }

    /// <summary>
    /// Writes <paramref name="encoder"/> (an ONNX model whose output <c>last_hidden_state</c> is [batch, sequence,
    /// hidden], float32 or float16) with this head appended: its only output becomes <c>logits</c>, float32 [batch,
    /// sequence], the RTD role's contract.
    /// </summary>
    public void AppendTo(ReadOnlySpan<byte> encoder, Stream destination, string encoderName)
    {
        OnnxModelOutline outline;
        try
        {
            outline = OnnxGraphSplicer.Outline(encoder);
        }
        catch (InvalidDataException error)
        {
            throw new InvalidDataException($"{encoderName}: {error.Message}", error);
        }
        if (outline.Outputs.Any(o => o.Name == "logits"))
        {
            throw new InvalidDataException($"{encoderName} already has a 'logits' output: it is not a feature-extraction export, so no head is appended");
        }
        var hidden = outline.Outputs.FirstOrDefault(o => o.Name == HiddenStateOutput)
            ?? throw new InvalidDataException($"{encoderName} has no '{HiddenStateOutput}' output (its outputs are " +
                $"{string.Join(", ", outline.Outputs.Select(o => $"'{o.Name}'"))}); the ELECTRA head needs a feature-extraction export");
        if (hidden.Shape.Count != 3)
        {
            throw new InvalidDataException($"{encoderName}: '{HiddenStateOutput}' has rank {hidden.Shape.Count}; it must be [batch, sequence, hidden]");
        }
        if (hidden.Shape[2].Value is { } width && width != HiddenSize)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{encoderName}: '{HiddenStateOutput}' is {width} wide but the checkpoint's head is for hidden size {HiddenSize}"));
        }
        if (hidden.ElementType is not (TensorElementType.Float or TensorElementType.Float16))
        {
            throw new InvalidDataException($"{encoderName}: '{HiddenStateOutput}' is {hidden.ElementType.DisplayName()}; it must be float32 or float16");
        }
        // Erf (exact GELU) exists from opset 9; Squeeze takes its axes as an input from opset 13, an attribute before.
        if (outline.DefaultOpset < 9)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{encoderName} uses opset {outline.DefaultOpset}; appending the head needs opset 9 or later"));
        }

        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var counter = 0;
        string Node(string op, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{Prefix}{op}_{counter++}");
            var node = new OnnxNode(op, inputs, [name], name);
            foreach (var attribute in attributes)
            {
                node.Attributes.Add(attribute);
            }
            nodes.Add(node);
            return name;
        }
        string Constant(string name, long[] dims, float[] values)
        {
            initializers.Add(OnnxTensor.FromFloats(Prefix + name, dims, values));
            return Prefix + name;
        }

        var h = HiddenSize;
        var input = hidden.ElementType == TensorElementType.Float16
            ? Node("Cast", [HiddenStateOutput], OnnxAttribute.Int("to", (long)TensorElementType.Float))
            : HiddenStateOutput;
        // torch's Linear stores [out, in]; MatMul wants [in, out].
        var denseT = new float[h * h];
        for (var o = 0; o < h; o++)
        {
            for (var i = 0; i < h; i++)
            {
                denseT[(i * h) + o] = DenseWeight[(o * h) + i];
            }
        }
        var dense = Node("Add", [Node("MatMul", [input, Constant("dense.weight_t", [h, h], denseT)]), Constant("dense.bias", [h], [.. DenseBias])]);
        var activated = Activate(dense, Node, Constant);
        var prediction = Node("Add", [Node("MatMul", [activated, Constant("dense_prediction.weight_t", [h, 1], [.. PredictionWeight])]),
            Constant("dense_prediction.bias", [1], [PredictionBias])]);
        string squeezed;
        if (outline.DefaultOpset >= 13)
        {
            initializers.Add(OnnxTensor.FromInt64s(Prefix + "squeeze_axes", [1], [2]));
            squeezed = Node("Squeeze", [prediction, Prefix + "squeeze_axes"]);
        }
        else
        {
            squeezed = Node("Squeeze", [prediction], OnnxAttribute.Ints("axes", 2));
        }
        nodes.Add(new OnnxNode("Identity", [squeezed], ["logits"], Prefix + "logits"));
        var batch = hidden.Shape[0].Symbol is { } b ? (OnnxDimension)b : "batch";
        var sequence = hidden.Shape[1].Symbol is { } s ? (OnnxDimension)s : "sequence";
        OnnxGraphSplicer.Append(encoder, HiddenStateOutput, nodes, initializers,
            [new OnnxValueInfo("logits", TensorElementType.Float, batch, sequence)], destination);
    }

    private string Activate(string x, Func<string, IReadOnlyList<string>, OnnxAttribute[], string> node,
        Func<string, long[], float[], string> constant)
    {
        switch (Activation)
        {
            case HeadActivation.Relu:
                return node("Relu", [x], []);
            case HeadActivation.Gelu:
            {
                // 0.5·x·(1 + erf(x/√2))
                var erf = node("Erf", [node("Div", [x, constant("sqrt2", [], [MathF.Sqrt(2f)])], [])], []);
                var onePlus = node("Add", [erf, constant("one", [], [1f])], []);
                return node("Mul", [node("Mul", [x, onePlus], []), constant("half", [], [0.5f])], []);
            }
            case HeadActivation.GeluTanh:
            {
                // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
                var cube = node("Mul", [node("Mul", [x, x], []), x], []);
                var inner = node("Add", [x, node("Mul", [cube, constant("coefficient", [], [0.044715f])], [])], []);
                var tanh = node("Tanh", [node("Mul", [inner, constant("sqrt_2_over_pi", [], [MathF.Sqrt(2f / MathF.PI)])], [])], []);
                var onePlus = node("Add", [tanh, constant("one", [], [1f])], []);
                return node("Mul", [node("Mul", [x, onePlus], []), constant("half", [], [0.5f])], []);
            }
            default:
                throw new InvalidOperationException($"unknown activation {Activation}");
        }
    }
}

/// <summary>The activations an ELECTRA head may use, as named by config.json <c>hidden_act</c>.</summary>
public enum HeadActivation
{
    /// <summary><c>gelu</c>: the exact, erf-based GELU.</summary>
    Gelu,

    /// <summary><c>gelu_new</c>, <c>gelu_pytorch_tanh</c>, <c>gelu_fast</c>: the tanh approximation.</summary>
    GeluTanh,

    /// <summary><c>relu</c>.</summary>
    Relu,
}

public static class HeadActivations
{
    /// <summary>Maps config.json <c>hidden_act</c> to an activation; false for names the head does not support.</summary>
    public static bool TryParse(string? name, out HeadActivation activation)
    {
        switch (name)
        {
            case "gelu":
                activation = HeadActivation.Gelu;
                return true;
            case "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast":
                activation = HeadActivation.GeluTanh;
                return true;
            case "relu":
                activation = HeadActivation.Relu;
                return true;
            default:
                activation = default;
                return false;
        }
    }
}
