using System.Text;

namespace Riverbed.Inference.Onnx;

/// <summary>What the splicer reads from an existing model: its graph outputs and the default-domain opset.</summary>
public sealed record OnnxModelOutline(IReadOnlyList<OnnxValueInfo> Outputs, long DefaultOpset);

/// <summary>
/// Appends nodes to a model written by someone else without decoding the whole graph: every field of the ModelProto and
/// GraphProto is copied byte for byte, except the graph output being replaced, and the new nodes, initializers and
/// outputs are written after the graph's own (protobuf keeps repeated fields in order, so the appended nodes come
/// after the ones that produce their inputs). Used to put a task head on a feature-extraction export.
/// </summary>
public static class OnnxGraphSplicer
{
    // ModelProto.graph = 7, ModelProto.opset_import = 8; GraphProto.node = 1, .initializer = 5, .output = 12.
    private const int ModelGraph = 7;
    private const int ModelOpset = 8;
    private const int GraphNode = 1;
    private const int GraphInitializer = 5;
    private const int GraphOutput = 12;

    /// <exception cref="InvalidDataException">The bytes are not a well-formed ONNX model with one graph.</exception>
    public static OnnxModelOutline Outline(ReadOnlySpan<byte> model)
    {
        var (graphStart, graphLength, _) = FindGraph(model);
        var outputs = new List<OnnxValueInfo>();
        var graph = new ProtoReader(model.Slice(graphStart, graphLength), graphStart);
        while (graph.TryReadTag(out var field, out var wire))
        {
            if (field == GraphOutput && wire == WireType.LengthDelimited)
            {
                outputs.Add(ReadValueInfo(graph.ReadLengthDelimited(out var offset), offset));
                continue;
            }
            graph.Skip(wire);
        }
        return new OnnxModelOutline(outputs, DefaultOpset(model));
    }

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="destination"/> with the graph output named
    /// <paramref name="removedOutput"/> no longer exposed (its value stays available to the new nodes) and the given
    /// nodes, initializers and outputs added.
    /// </summary>
    public static void Append(ReadOnlySpan<byte> model, string removedOutput, IReadOnlyList<OnnxNode> nodes,
        IReadOnlyList<OnnxTensor> initializers, IReadOnlyList<OnnxValueInfo> outputs, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(initializers);
        ArgumentNullException.ThrowIfNull(outputs);
        var (graphStart, graphLength, graphFieldStart) = FindGraph(model);
        var graphBytes = model.Slice(graphStart, graphLength);

        // The graph's own fields, minus the removed output, as (start, length) spans of the original bytes.
        var kept = new List<(int Start, int Length)>();
        var removed = false;
        var reader = new ProtoReader(graphBytes);
        var fieldStart = 0;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == GraphOutput && wire == WireType.LengthDelimited)
            {
                var info = ReadValueInfo(reader.ReadLengthDelimited(out var offset), offset + graphStart);
                if (info.Name == removedOutput)
                {
                    removed = true;
                    fieldStart = (int)reader.Offset;
                    continue;
                }
            }
            else
            {
                reader.Skip(wire);
            }
            var end = (int)reader.Offset;
            kept.Add((fieldStart, end - fieldStart));
            fieldStart = end;
        }
        if (!removed)
        {
            throw new InvalidDataException($"the model has no graph output '{removedOutput}'");
        }

        long newSize = kept.Sum(span => (long)span.Length);
        newSize += nodes.Sum(n => ProtoSize.MessageField(GraphNode, n.ComputeSize()));
        newSize += initializers.Sum(t => ProtoSize.MessageField(GraphInitializer, t.ComputeSize()));
        newSize += outputs.Sum(o => ProtoSize.MessageField(GraphOutput, o.ComputeSize()));

        using var output = new ProtoOutput(destination);
        output.WriteRaw(model[..graphFieldStart]);
        output.BeginMessage(ModelGraph, newSize);
        foreach (var (start, length) in kept)
        {
            output.WriteRaw(graphBytes.Slice(start, length));
        }
        foreach (var node in nodes)
        {
            output.BeginMessage(GraphNode, node.ComputeSize());
            node.WriteTo(output);
        }
        foreach (var tensor in initializers)
        {
            output.BeginMessage(GraphInitializer, tensor.ComputeSize());
            tensor.WriteTo(output);
        }
        foreach (var info in outputs)
        {
            output.BeginMessage(GraphOutput, info.ComputeSize());
            info.WriteTo(output);
        }
        output.WriteRaw(model[(graphStart + graphLength)..]);
    }

    /// <summary>The graph payload's offset and length, and where its field (tag included) starts.</summary>
    private static (int Start, int Length, int FieldStart) FindGraph(ReadOnlySpan<byte> model)
    {
        var reader = new ProtoReader(model);
        (int, int, int)? found = null;
        var fieldStart = 0;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == ModelGraph && wire == WireType.LengthDelimited)
            {
                if (found is not null)
                {
                    throw new InvalidDataException("the model has more than one graph field");
                }
                var payload = reader.ReadLengthDelimited(out var offset);
                found = ((int)offset, payload.Length, fieldStart);
            }
            else
            {
                reader.Skip(wire);
            }
            fieldStart = (int)reader.Offset;
        }
        return found ?? throw new InvalidDataException("the model has no graph");
    }

    private static long DefaultOpset(ReadOnlySpan<byte> model)
    {
        var reader = new ProtoReader(model);
        long version = 0;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field != ModelOpset || wire != WireType.LengthDelimited)
            {
                reader.Skip(wire);
                continue;
            }
            var opset = new ProtoReader(reader.ReadLengthDelimited(out _));
            var domain = string.Empty;
            long opsetVersion = 0;
            while (opset.TryReadTag(out var f, out var w))
            {
                if (f == 1 && w == WireType.LengthDelimited)
                {
                    domain = opset.ReadString();
                }
                else if (f == 2 && w == WireType.Varint)
                {
                    opsetVersion = (long)opset.ReadVarint();
                }
                else
                {
                    opset.Skip(w);
                }
            }
            if (domain.Length == 0 || domain == "ai.onnx")
            {
                version = opsetVersion;
            }
        }
        return version;
    }

    // ValueInfoProto { name = 1, type = 2 { tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 { value = 1 | param = 2 } } } } }
    private static OnnxValueInfo ReadValueInfo(ReadOnlySpan<byte> bytes, long offset)
    {
        var reader = new ProtoReader(bytes, offset);
        var name = string.Empty;
        var elementType = TensorElementType.Undefined;
        var shape = new List<OnnxDimension>();
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.LengthDelimited)
            {
                name = Encoding.UTF8.GetString(reader.ReadLengthDelimited(out _));
            }
            else if (field == 2 && wire == WireType.LengthDelimited)
            {
                var type = new ProtoReader(reader.ReadLengthDelimited(out var typeOffset), typeOffset);
                while (type.TryReadTag(out var f, out var w))
                {
                    if (f == 1 && w == WireType.LengthDelimited)
                    {
                        (elementType, shape) = ReadTensorType(type.ReadLengthDelimited(out var o), o);
                    }
                    else
                    {
                        type.Skip(w);
                    }
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }
        return new OnnxValueInfo(name, elementType, [.. shape]);
    }

    private static (TensorElementType, List<OnnxDimension>) ReadTensorType(ReadOnlySpan<byte> bytes, long offset)
    {
        var reader = new ProtoReader(bytes, offset);
        var elementType = TensorElementType.Undefined;
        var shape = new List<OnnxDimension>();
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.Varint)
            {
                elementType = (TensorElementType)(int)reader.ReadVarint();
            }
            else if (field == 2 && wire == WireType.LengthDelimited)
            {
                var dims = new ProtoReader(reader.ReadLengthDelimited(out var o), o);
                while (dims.TryReadTag(out var f, out var w))
                {
                    if (f != 1 || w != WireType.LengthDelimited)
                    {
                        dims.Skip(w);
                        continue;
                    }
                    var dim = new ProtoReader(dims.ReadLengthDelimited(out var d), d);
                    OnnxDimension value = new(null, null);
                    while (dim.TryReadTag(out var df, out var dw))
                    {
                        if (df == 1 && dw == WireType.Varint)
                        {
                            value = (long)dim.ReadVarint();
                        }
                        else if (df == 2 && dw == WireType.LengthDelimited)
                        {
                            value = dim.ReadString();
                        }
                        else
                        {
                            dim.Skip(dw);
                        }
                    }
                    shape.Add(value);
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }
        return (elementType, shape);
    }
}
