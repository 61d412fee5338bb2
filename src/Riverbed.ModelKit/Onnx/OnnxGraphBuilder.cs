using System.Globalization;
using Riverbed.Inference;
using Riverbed.Inference.Onnx;

namespace Riverbed.ModelKit.Onnx;

/// <summary>
/// Builds an <see cref="OnnxModel"/> one operator at a time: each call adds a node and returns the name of the value
/// it produces, so graphs read like the computation they describe.
/// </summary>
public sealed class OnnxGraphBuilder
{
    private readonly OnnxGraph _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public OnnxGraphBuilder(string graphName = "graph") => _graph = new OnnxGraph { Name = graphName };

    /// <summary>Declares a graph input and returns its name.</summary>
    public string Input(string name, TensorElementType elementType, params OnnxDimension[] shape)
    {
        Reserve(name);
        _graph.Inputs.Add(new OnnxValueInfo(name, elementType, shape));
        return name;
    }

    /// <summary>Exposes <paramref name="value"/> as a graph output called <paramref name="name"/>.</summary>
    public void Output(string value, string name, TensorElementType elementType, params OnnxDimension[] shape)
    {
        if (value != name)
        {
            Reserve(name);
            _graph.Nodes.Add(new OnnxNode("Identity", [value], [name], $"output_{name}"));
        }
        _graph.Outputs.Add(new OnnxValueInfo(name, elementType, shape));
    }

    public string Weight(string name, long[] dims, float[] values) => Add(OnnxTensor.FromFloats(Reserve(name), dims, values));

    public string Int64s(string name, long[] dims, long[] values) => Add(OnnxTensor.FromInt64s(Reserve(name), dims, values));

    /// <summary>A 1-D int64 constant, the usual form of shapes, axes and indices.</summary>
    public string Int64s(string name, params long[] values) => Int64s(name, [values.Length], values);

    public string Scalar(string name, float value) => Add(OnnxTensor.FromFloats(Reserve(name), [], [value]));

    /// <summary>Adds an initializer built elsewhere (external data, float16…).</summary>
    public string Add(OnnxTensor tensor)
    {
        _names.Add(tensor.Name);
        _graph.Initializers.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a node with one output and returns that output's generated name.</summary>
    public string Node(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes) =>
        Node(opType, inputs, 1, attributes)[0];

    /// <summary>Adds a node with several outputs and returns their generated names.</summary>
    public string[] Node(string opType, IReadOnlyList<string> inputs, int outputCount, params OnnxAttribute[] attributes)
    {
        var id = _counter++;
        var outputs = new string[outputCount];
        for (var i = 0; i < outputCount; i++)
        {
            outputs[i] = Reserve(string.Create(CultureInfo.InvariantCulture, $"{opType}_{id}_{i}"));
        }
        var node = new OnnxNode(opType, inputs, outputs, string.Create(CultureInfo.InvariantCulture, $"{opType}_{id}"));
        foreach (var attribute in attributes)
        {
            node.Attributes.Add(attribute);
        }
        _graph.Nodes.Add(node);
        return outputs;
    }

    /// <summary>Adds a node in another operator domain (e.g. com.microsoft contrib ops).</summary>
    public string DomainNode(string domain, string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
    {
        var id = _counter++;
        var output = Reserve(string.Create(CultureInfo.InvariantCulture, $"{opType}_{id}_0"));
        var node = new OnnxNode(opType, inputs, [output], string.Create(CultureInfo.InvariantCulture, $"{opType}_{id}"))
        {
            Domain = domain,
        };
        foreach (var attribute in attributes)
        {
            node.Attributes.Add(attribute);
        }
        _graph.Nodes.Add(node);
        return output;
    }

    public OnnxModel Build(long opset = 17)
    {
        var model = new OnnxModel(_graph);
        model.Opsets[0] = new OnnxOpset("", opset);
        foreach (var node in _graph.Nodes)
        {
            if (node.Domain.Length > 0 && !model.Opsets.Any(o => o.Domain == node.Domain))
            {
                model.Opsets.Add(new OnnxOpset(node.Domain, 1));
            }
        }
        return model;
    }

    private string Reserve(string name)
    {
        if (!_names.Add(name))
        {
            throw new ArgumentException($"the graph already has a value named '{name}'", nameof(name));
        }
        return name;
    }
}
