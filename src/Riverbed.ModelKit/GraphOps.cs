using System.Globalization;
using Riverbed.Inference;
using Riverbed.Inference.Onnx;
using Riverbed.ModelKit.Onnx;

namespace Riverbed.ModelKit;

/// <summary>
/// The operators generated graphs are made of, as one-line calls over an <see cref="OnnxGraphBuilder"/>, with
/// constants created (and shared) on demand.
/// </summary>
internal sealed class GraphOps
{
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private int _constantCount;

    public GraphOps(OnnxGraphBuilder builder) => Builder = builder;

    public OnnxGraphBuilder Builder { get; }

    public string Float(float value) => Shared(
        string.Create(CultureInfo.InvariantCulture, $"f:{BitConverter.SingleToInt32Bits(value)}"),
        name => Builder.Scalar(name, value));

    public string Int64(long value) => Shared(
        string.Create(CultureInfo.InvariantCulture, $"i:{value}"),
        name => Builder.Add(OnnxTensor.FromInt64s(name, [], [value])));

    public string Int64s(params long[] values) => Shared(
        "is:" + string.Join(',', values),
        name => Builder.Int64s(name, values));

    /// <summary>A constant tensor that is not shared (tables, weights).</summary>
    public string Floats(long[] dims, float[] values) => Builder.Weight(NextConstantName(), dims, values);

    public string Int64Table(long[] dims, long[] values) => Builder.Int64s(NextConstantName(), dims, values);

    public string Op(string opType, params string[] inputs) => Builder.Node(opType, inputs);

    public string Op(string opType, string[] inputs, params OnnxAttribute[] attributes) => Builder.Node(opType, inputs, attributes);

    public string Add(string a, string b) => Op("Add", a, b);

    public string Sub(string a, string b) => Op("Sub", a, b);

    public string Mul(string a, string b) => Op("Mul", a, b);

    public string MatMul(string a, string b) => Op("MatMul", a, b);

    public string Equal(string a, string b) => Op("Equal", a, b);

    public string And(string a, string b) => Op("And", a, b);

    public string Or(string a, string b) => Op("Or", a, b);

    public string Not(string a) => Op("Not", a);

    public string Cast(string value, TensorElementType to) => Op("Cast", [value], OnnxAttribute.Int("to", (long)to));

    public string Gather(string data, string indices, long axis = 0) =>
        Op("Gather", [data, indices], OnnxAttribute.Int("axis", axis));

    public string Unsqueeze(string value, params long[] axes) => Op("Unsqueeze", value, Int64s(axes));

    public string Squeeze(string value, params long[] axes) => Op("Squeeze", value, Int64s(axes));

    public string Reshape(string value, params long[] shape) => Op("Reshape", value, Int64s(shape));

    public string Transpose(string value, params long[] perm) => Op("Transpose", [value], OnnxAttribute.Ints("perm", perm));

    public string Softmax(string value, long axis = -1) => Op("Softmax", [value], OnnxAttribute.Int("axis", axis));

    public string ReduceMax(string value, long axis, bool keepDims) =>
        Op("ReduceMax", [value], OnnxAttribute.Ints("axes", axis), OnnxAttribute.Int("keepdims", keepDims ? 1 : 0));

    public string ArgMax(string value, long axis, bool keepDims) =>
        Op("ArgMax", [value], OnnxAttribute.Int("axis", axis), OnnxAttribute.Int("keepdims", keepDims ? 1 : 0));

    public string CumSum(string value, long axis, bool exclusive = false) =>
        Op("CumSum", [value, Int64(axis)], OnnxAttribute.Int("exclusive", exclusive ? 1 : 0));

    public string Where(string condition, string whenTrue, string whenFalse) => Op("Where", condition, whenTrue, whenFalse);

    public string Concat(long axis, params string[] values) => Op("Concat", values, OnnxAttribute.Int("axis", axis));

    /// <summary>The size of one axis of a value's shape, as an int64 scalar.</summary>
    public string Dimension(string value, long axis) => Gather(Op("Shape", value), Int64(axis));

    public string LayerNorm(string value, string scale, string bias, float epsilon) =>
        Op("LayerNormalization", [value, scale, bias], OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", epsilon));

    /// <summary>Layer normalization over the last axis spelled out, as torch.onnx writes it below opset 17.</summary>
    public string DecomposedLayerNorm(string value, string scale, string bias, float epsilon)
    {
        var centered = Sub(value, Op("ReduceMean", [value], OnnxAttribute.Ints("axes", -1), OnnxAttribute.Int("keepdims", 1)));
        var variance = Op("ReduceMean", [Op("Pow", centered, Float(2f))], OnnxAttribute.Ints("axes", -1), OnnxAttribute.Int("keepdims", 1));
        var normalized = Op("Div", centered, Op("Sqrt", Add(variance, Float(epsilon))));
        return Add(Mul(normalized, scale), bias);
    }

    /// <summary>GELU with the exact erf form HF's "gelu" uses (opset 17 has no Gelu operator; ORT fuses this pattern).</summary>
    public string Gelu(string x)
    {
        var erf = Op("Erf", Mul(x, Float(1f / MathF.Sqrt(2f))));
        return Mul(Mul(x, Add(erf, Float(1f))), Float(0.5f));
    }

    public string Linear(string x, string weight, string bias) => Add(MatMul(x, weight), bias);

    private string Shared(string key, Func<string, string> create)
    {
        if (!_constants.TryGetValue(key, out var name))
        {
            name = create(NextConstantName());
            _constants.Add(key, name);
        }
        return name;
    }

    private string NextConstantName() => string.Create(CultureInfo.InvariantCulture, $"const_{_constantCount++}");
}
