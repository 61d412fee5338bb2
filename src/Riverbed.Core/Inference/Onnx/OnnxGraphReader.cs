using System.Buffers.Binary;

namespace Riverbed.Inference.Onnx;

/// <summary>
/// A read-only view of an ONNX file's top-level graph, enough to rewrite it: every field of the model and of its
/// graph with its byte range (so untouched parts are copied as they are, initializers included), the nodes with their
/// inputs, outputs and simple attributes, and what is known about constants (ranks, small int64 values). It never
/// copies tensor data.
/// </summary>
internal sealed class OnnxGraphReader
{
    private OnnxGraphReader()
    {
    }

    /// <summary>ModelProto fields in file order; the graph is field 7.</summary>
    public List<ProtoField> ModelFields { get; } = [];

    /// <summary>GraphProto fields in file order.</summary>
    public List<ProtoField> GraphFields { get; } = [];

    public List<GraphNode> Nodes { get; } = [];

    /// <summary>Initializer and sparse initializer names with their rank.</summary>
    public Dictionary<string, int> Initializers { get; } = new(StringComparer.Ordinal);

    /// <summary>Small int64 constants (at most 8 values) by name: initializers and Constant nodes.</summary>
    public Dictionary<string, long[]> Int64Constants { get; } = new(StringComparer.Ordinal);

    public List<string> Inputs { get; } = [];

    public List<GraphValueInfo> Outputs { get; } = [];

    /// <summary>The default domain's opset version (0 when the model does not import it).</summary>
    public long DefaultOpset { get; private set; }

    /// <summary>Whether any node carries a subgraph (If, Loop, Scan), which may read outer values implicitly.</summary>
    public bool HasSubgraphs { get; private set; }

    public bool HasExternalData { get; private set; }

    /// <exception cref="InvalidDataException">The bytes are not a well-formed ONNX protobuf.</exception>
    public static OnnxGraphReader Read(ReadOnlySpan<byte> model)
    {
        var result = new OnnxGraphReader();
        var reader = new ProtoReader(model);
        var sawGraph = false;
        while (true)
        {
            var start = (int)reader.Offset;
            if (!reader.TryReadTag(out var field, out var wire))
            {
                break;
            }
            if (field == 7 && wire == WireType.LengthDelimited)
            {
                var payload = reader.ReadLengthDelimited(out var offset);
                result.ModelFields.Add(new ProtoField(field, start, (int)reader.Offset, (int)offset));
                result.ReadGraph(payload, offset);
                sawGraph = true;
                continue;
            }
            if (field == 8 && wire == WireType.LengthDelimited)
            {
                var payload = reader.ReadLengthDelimited(out var offset);
                var opset = ReadOpset(payload, offset);
                if (opset.Domain is "" or "ai.onnx")
                {
                    result.DefaultOpset = opset.Version;
                }
            }
            else
            {
                reader.Skip(wire);
            }
            result.ModelFields.Add(new ProtoField(field, start, (int)reader.Offset, -1));
        }
        if (!sawGraph)
        {
            throw new InvalidDataException("not an ONNX model: no graph");
        }
        return result;
    }

    private void ReadGraph(ReadOnlySpan<byte> data, long baseOffset)
    {
        var reader = new ProtoReader(data, baseOffset);
        while (true)
        {
            var start = (int)reader.Offset;
            if (!reader.TryReadTag(out var field, out var wire))
            {
                break;
            }
            if (wire != WireType.LengthDelimited)
            {
                reader.Skip(wire);
                GraphFields.Add(new ProtoField(field, start, (int)reader.Offset, -1));
                continue;
            }
            var payload = reader.ReadLengthDelimited(out var offset);
            var index = -1;
            string? name = null;
            switch (field)
            {
                case 1:
                    index = Nodes.Count;
                    Nodes.Add(ReadNode(payload, offset, index));
                    break;
                case 5:
                    {
                        var tensor = ReadTensor(payload, offset);
                        Initializers[tensor.Name] = tensor.Rank;
                        HasExternalData |= tensor.External;
                        if (tensor.Int64Values is { } values)
                        {
                            Int64Constants[tensor.Name] = values;
                        }
                        break;
                    }
                case 15:
                    ReadSparseInitializer(payload, offset);
                    break;
                case 11:
                    Inputs.Add(ReadValueInfo(payload, offset).Name);
                    break;
                case 12:
                    Outputs.Add(ReadValueInfo(payload, offset));
                    name = Outputs[^1].Name;
                    break;
                case 13:
                    name = ReadValueInfo(payload, offset).Name;
                    break;
            }
            GraphFields.Add(new ProtoField(field, start, (int)reader.Offset, (int)offset, index, name));
        }
    }

    private GraphNode ReadNode(ReadOnlySpan<byte> data, long baseOffset, int index)
    {
        var node = new GraphNode(index);
        var reader = new ProtoReader(data, baseOffset);
        while (true)
        {
            var start = (int)reader.Offset;
            if (!reader.TryReadTag(out var field, out var wire))
            {
                break;
            }
            switch (field, wire)
            {
                case (1, WireType.LengthDelimited):
                    node.Inputs.Add(reader.ReadString());
                    continue; // inputs are rewritten, never copied
                case (2, WireType.LengthDelimited):
                    node.Outputs.Add(reader.ReadString());
                    break;
                case (4, WireType.LengthDelimited):
                    node.OpType = reader.ReadString();
                    break;
                case (7, WireType.LengthDelimited):
                    node.Domain = reader.ReadString();
                    break;
                case (5, WireType.LengthDelimited):
                    {
                        var payload = reader.ReadLengthDelimited(out var offset);
                        var attribute = ReadAttribute(payload, offset);
                        node.Attributes[attribute.Name] = attribute;
                        HasSubgraphs |= attribute.HasGraph;
                        break;
                    }
                default:
                    reader.Skip(wire);
                    break;
            }
            node.OtherFields.Add(new ProtoField(field, start, (int)reader.Offset, -1));
        }
        if (node.Domain == "ai.onnx")
        {
            node.Domain = string.Empty;
        }
        return node;
    }

    private static GraphAttribute ReadAttribute(ReadOnlySpan<byte> data, long baseOffset)
    {
        var attribute = new GraphAttribute();
        var reader = new ProtoReader(data, baseOffset);
        var ints = new List<long>();
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, WireType.LengthDelimited):
                    attribute.Name = reader.ReadString();
                    break;
                case (3, WireType.Varint):
                    attribute.Int = unchecked((long)reader.ReadVarint());
                    break;
                case (5, WireType.LengthDelimited):
                    attribute.Tensor = ReadTensor(reader.ReadLengthDelimited(out var tensorOffset), tensorOffset);
                    break;
                case (6, WireType.LengthDelimited) or (11, WireType.LengthDelimited):
                    attribute.HasGraph = true;
                    reader.Skip(wire);
                    break;
                case (8, WireType.Varint):
                    ints.Add(unchecked((long)reader.ReadVarint()));
                    break;
                case (8, WireType.LengthDelimited):
                    {
                        var packed = new ProtoReader(reader.ReadLengthDelimited(out var packedOffset), packedOffset);
                        while (!packed.AtEnd)
                        {
                            ints.Add(unchecked((long)packed.ReadVarint()));
                        }
                        break;
                    }
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        attribute.Ints = [.. ints];
        return attribute;
    }

    internal static TensorFacts ReadTensor(ReadOnlySpan<byte> data, long baseOffset)
    {
        var reader = new ProtoReader(data, baseOffset);
        var name = string.Empty;
        var dims = new List<long>();
        var dataType = 0L;
        var external = false;
        ReadOnlySpan<byte> raw = default;
        var int64Data = new List<long>();
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, WireType.Varint):
                    dims.Add(unchecked((long)reader.ReadVarint()));
                    break;
                case (1, WireType.LengthDelimited):
                    {
                        var packed = new ProtoReader(reader.ReadLengthDelimited(out var packedOffset), packedOffset);
                        while (!packed.AtEnd)
                        {
                            dims.Add(unchecked((long)packed.ReadVarint()));
                        }
                        break;
                    }
                case (2, WireType.Varint):
                    dataType = (long)reader.ReadVarint();
                    break;
                case (7, WireType.Varint):
                    int64Data.Add(unchecked((long)reader.ReadVarint()));
                    break;
                case (7, WireType.LengthDelimited):
                    {
                        var packed = new ProtoReader(reader.ReadLengthDelimited(out var packedOffset), packedOffset);
                        while (!packed.AtEnd && int64Data.Count <= 8)
                        {
                            int64Data.Add(unchecked((long)packed.ReadVarint()));
                        }
                        break;
                    }
                case (8, WireType.LengthDelimited):
                    name = reader.ReadString();
                    break;
                case (9, WireType.LengthDelimited):
                    raw = reader.ReadLengthDelimited(out _);
                    break;
                case (14, WireType.Varint):
                    external = reader.ReadVarint() == 1;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        long[]? values = null;
        if (dataType == (long)TensorElementType.Int64 && !external)
        {
            if (raw.Length > 0 && raw.Length <= 64 && raw.Length % 8 == 0)
            {
                values = new long[raw.Length / 8];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]);
                }
            }
            else if (raw.Length == 0 && int64Data.Count is > 0 and <= 8)
            {
                values = [.. int64Data];
            }
        }
        return new TensorFacts(name, dims.Count, values, external);
    }

    private void ReadSparseInitializer(ReadOnlySpan<byte> data, long baseOffset)
    {
        var reader = new ProtoReader(data, baseOffset);
        var name = string.Empty;
        var rank = 0;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.LengthDelimited)
            {
                var values = ReadTensor(reader.ReadLengthDelimited(out var offset), offset);
                name = values.Name;
                HasExternalData |= values.External;
            }
            else if (field == 3)
            {
                if (wire == WireType.LengthDelimited)
                {
                    var packed = new ProtoReader(reader.ReadLengthDelimited(out var offset), offset);
                    while (!packed.AtEnd)
                    {
                        packed.ReadVarint();
                        rank++;
                    }
                }
                else
                {
                    reader.Skip(wire);
                    rank++;
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }
        Initializers[name] = rank;
    }

    private static GraphValueInfo ReadValueInfo(ReadOnlySpan<byte> data, long baseOffset)
    {
        var reader = new ProtoReader(data, baseOffset);
        var info = new GraphValueInfo();
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.LengthDelimited)
            {
                info.Name = reader.ReadString();
            }
            else if (field == 2 && wire == WireType.LengthDelimited)
            {
                // TypeProto.tensor_type (1): elem_type (1), shape (2) of dims (1).
                var type = new ProtoReader(reader.ReadLengthDelimited(out var typeOffset), typeOffset);
                while (type.TryReadTag(out var typeField, out var typeWire))
                {
                    if (typeField != 1 || typeWire != WireType.LengthDelimited)
                    {
                        type.Skip(typeWire);
                        continue;
                    }
                    var tensor = new ProtoReader(type.ReadLengthDelimited(out var tensorOffset), tensorOffset);
                    while (tensor.TryReadTag(out var tensorField, out var tensorWire))
                    {
                        if (tensorField == 1 && tensorWire == WireType.Varint)
                        {
                            info.ElementType = (TensorElementType)(int)tensor.ReadVarint();
                        }
                        else if (tensorField == 2 && tensorWire == WireType.LengthDelimited)
                        {
                            var shape = new ProtoReader(tensor.ReadLengthDelimited(out var shapeOffset), shapeOffset);
                            info.Rank = 0;
                            while (shape.TryReadTag(out var shapeField, out var shapeWire))
                            {
                                info.Rank += shapeField == 1 ? 1 : 0;
                                shape.Skip(shapeWire);
                            }
                        }
                        else
                        {
                            tensor.Skip(tensorWire);
                        }
                    }
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }
        return info;
    }

    private static OnnxOpset ReadOpset(ReadOnlySpan<byte> data, long offset)
    {
        var reader = new ProtoReader(data, offset);
        var domain = string.Empty;
        long version = 0;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.LengthDelimited)
            {
                domain = reader.ReadString();
            }
            else if (field == 2 && wire == WireType.Varint)
            {
                version = (long)reader.ReadVarint();
            }
            else
            {
                reader.Skip(wire);
            }
        }
        return new OnnxOpset(domain, version);
    }
}

/// <summary>
/// One field of a message as it lies in the file: [Start, End) covers tag and payload; PayloadStart is where a
/// length-delimited payload begins (-1 otherwise). Node is the node index of a graph's node field, Name the value
/// named by an output or value_info field.
/// </summary>
internal sealed record ProtoField(int Number, int Start, int End, int PayloadStart, int Node = -1, string? Name = null)
{
    public int Length => End - Start;
}

internal sealed class GraphNode(int index)
{
    public int Index { get; } = index;

    public string OpType { get; set; } = string.Empty;

    public string Domain { get; set; } = string.Empty;

    public List<string> Inputs { get; } = [];

    public List<string> Outputs { get; } = [];

    public Dictionary<string, GraphAttribute> Attributes { get; } = new(StringComparer.Ordinal);

    /// <summary>Every field but the inputs, as byte ranges of the file.</summary>
    public List<ProtoField> OtherFields { get; } = [];

    public long? Int(string name) => Attributes.TryGetValue(name, out var attribute) ? attribute.Int : null;
}

internal sealed class GraphAttribute
{
    public string Name { get; set; } = string.Empty;

    public long? Int { get; set; }

    public long[] Ints { get; set; } = [];

    public TensorFacts? Tensor { get; set; }

    public bool HasGraph { get; set; }
}

internal sealed record TensorFacts(string Name, int Rank, long[]? Int64Values, bool External);

internal sealed class GraphValueInfo
{
    public string Name { get; set; } = string.Empty;

    public TensorElementType ElementType { get; set; }

    /// <summary>The declared rank, or -1 when no shape is declared.</summary>
    public int Rank { get; set; } = -1;
}
