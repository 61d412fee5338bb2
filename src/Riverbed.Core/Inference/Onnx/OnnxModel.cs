using System.Runtime.InteropServices;

namespace Riverbed.Inference.Onnx;

// A minimal object model of onnx.proto (ModelProto and what it contains), enough to write the encoders and oracle
// models Riverbed generates for tests, benchmarks and the demo. Field numbers are those of onnx.proto (proto2).

/// <summary>An operator set the model imports: the empty domain is the default ONNX domain.</summary>
public sealed record OnnxOpset(string Domain, long Version);

/// <summary>An ONNX model (ModelProto).</summary>
public sealed class OnnxModel
{
    public OnnxModel(OnnxGraph graph) => Graph = graph;

    /// <summary>IR version 8 is understood by every ONNX Runtime since 1.10 and carries opset 17.</summary>
    public long IrVersion { get; init; } = 8;

    public string ProducerName { get; init; } = "riverbed";

    public string ProducerVersion { get; init; } = "1";

    public IList<OnnxOpset> Opsets { get; } = [new OnnxOpset("", 17)];

    public OnnxGraph Graph { get; }

    /// <summary>Free-form key/value metadata (ModelProto.metadata_props), e.g. what generated the model.</summary>
    public IDictionary<string, string> Metadata { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    public void Save(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        WriteTo(file);
    }

    public byte[] ToArray()
    {
        using var memory = new MemoryStream();
        WriteTo(memory);
        return memory.ToArray();
    }

    public void WriteTo(Stream stream)
    {
        using var output = new ProtoOutput(stream);
        output.WriteVarintField(1, IrVersion);
        output.WriteStringField(2, ProducerName);
        output.WriteStringField(3, ProducerVersion);
        output.BeginMessage(7, Graph.ComputeSize());
        Graph.WriteTo(output);
        foreach (var opset in Opsets)
        {
            output.BeginMessage(8, OpsetSize(opset));
            output.WriteStringField(1, opset.Domain);
            output.WriteVarintField(2, opset.Version);
        }
        foreach (var (key, value) in Metadata)
        {
            output.BeginMessage(14, ProtoSize.StringField(1, key) + ProtoSize.StringField(2, value));
            output.WriteStringField(1, key);
            output.WriteStringField(2, value);
        }
    }

    private static long OpsetSize(OnnxOpset opset) =>
        ProtoSize.StringField(1, opset.Domain) + ProtoSize.VarintField(2, opset.Version);
}

/// <summary>A computation graph (GraphProto).</summary>
public sealed class OnnxGraph
{
    public string Name { get; init; } = "graph";

    public IList<OnnxNode> Nodes { get; } = [];

    public IList<OnnxTensor> Initializers { get; } = [];

    public IList<OnnxValueInfo> Inputs { get; } = [];

    public IList<OnnxValueInfo> Outputs { get; } = [];

    internal long ComputeSize()
    {
        long size = ProtoSize.StringField(2, Name);
        foreach (var node in Nodes)
        {
            size += ProtoSize.MessageField(1, node.ComputeSize());
        }
        foreach (var tensor in Initializers)
        {
            size += ProtoSize.MessageField(5, tensor.ComputeSize());
        }
        foreach (var input in Inputs)
        {
            size += ProtoSize.MessageField(11, input.ComputeSize());
        }
        foreach (var output in Outputs)
        {
            size += ProtoSize.MessageField(12, output.ComputeSize());
        }
        return size;
    }

    internal void WriteTo(ProtoOutput output)
    {
        foreach (var node in Nodes)
        {
            output.BeginMessage(1, node.ComputeSize());
            node.WriteTo(output);
        }
        output.WriteStringField(2, Name);
        foreach (var tensor in Initializers)
        {
            output.BeginMessage(5, tensor.ComputeSize());
            tensor.WriteTo(output);
        }
        foreach (var input in Inputs)
        {
            output.BeginMessage(11, input.ComputeSize());
            input.WriteTo(output);
        }
        foreach (var graphOutput in Outputs)
        {
            output.BeginMessage(12, graphOutput.ComputeSize());
            graphOutput.WriteTo(output);
        }
    }
}

/// <summary>One operator invocation (NodeProto).</summary>
public sealed class OnnxNode
{
    public OnnxNode(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string? name = null)
    {
        OpType = opType;
        Inputs = [.. inputs];
        Outputs = [.. outputs];
        Name = name ?? string.Empty;
    }

    public string OpType { get; }

    public string Name { get; }

    /// <summary>Operator domain; empty for the default ONNX domain, "com.microsoft" for ORT's contrib ops.</summary>
    public string Domain { get; init; } = string.Empty;

    /// <summary>Input value names in operator order; an empty name marks an omitted optional input.</summary>
    public IList<string> Inputs { get; }

    public IList<string> Outputs { get; }

    public IList<OnnxAttribute> Attributes { get; } = [];

    internal long ComputeSize()
    {
        long size = 0;
        foreach (var input in Inputs)
        {
            size += ProtoSize.StringField(1, input);
        }
        foreach (var output in Outputs)
        {
            size += ProtoSize.StringField(2, output);
        }
        if (Name.Length > 0)
        {
            size += ProtoSize.StringField(3, Name);
        }
        size += ProtoSize.StringField(4, OpType);
        foreach (var attribute in Attributes)
        {
            size += ProtoSize.MessageField(5, attribute.ComputeSize());
        }
        if (Domain.Length > 0)
        {
            size += ProtoSize.StringField(7, Domain);
        }
        return size;
    }

    internal void WriteTo(ProtoOutput output)
    {
        foreach (var input in Inputs)
        {
            output.WriteStringField(1, input);
        }
        foreach (var name in Outputs)
        {
            output.WriteStringField(2, name);
        }
        if (Name.Length > 0)
        {
            output.WriteStringField(3, Name);
        }
        output.WriteStringField(4, OpType);
        foreach (var attribute in Attributes)
        {
            output.BeginMessage(5, attribute.ComputeSize());
            attribute.WriteTo(output);
        }
        if (Domain.Length > 0)
        {
            output.WriteStringField(7, Domain);
        }
    }
}

/// <summary>A node attribute (AttributeProto) of one of the kinds generated models use.</summary>
public sealed class OnnxAttribute
{
    // AttributeProto.AttributeType values.
    private const int FloatType = 1;
    private const int IntType = 2;
    private const int StringType = 3;
    private const int TensorType = 4;
    private const int FloatsType = 6;
    private const int IntsType = 7;

    private readonly int _type;
    private readonly float _float;
    private readonly long _int;
    private readonly string? _string;
    private readonly OnnxTensor? _tensor;
    private readonly float[]? _floats;
    private readonly long[]? _ints;

    private OnnxAttribute(string name, int type, float f = 0, long i = 0, string? s = null, OnnxTensor? t = null,
        float[]? floats = null, long[]? ints = null)
    {
        Name = name;
        _type = type;
        _float = f;
        _int = i;
        _string = s;
        _tensor = t;
        _floats = floats;
        _ints = ints;
    }

    public string Name { get; }

    public static OnnxAttribute Float(string name, float value) => new(name, FloatType, f: value);

    public static OnnxAttribute Int(string name, long value) => new(name, IntType, i: value);

    public static OnnxAttribute String(string name, string value) => new(name, StringType, s: value);

    public static OnnxAttribute Tensor(string name, OnnxTensor value) => new(name, TensorType, t: value);

    public static OnnxAttribute Floats(string name, params float[] values) => new(name, FloatsType, floats: values);

    public static OnnxAttribute Ints(string name, params long[] values) => new(name, IntsType, ints: values);

    internal long ComputeSize()
    {
        long size = ProtoSize.StringField(1, Name) + ProtoSize.VarintField(20, _type);
        switch (_type)
        {
            case FloatType:
                size += ProtoSize.Tag(2) + 4;
                break;
            case IntType:
                size += ProtoSize.VarintField(3, _int);
                break;
            case StringType:
                size += ProtoSize.StringField(4, _string!);
                break;
            case TensorType:
                size += ProtoSize.MessageField(5, _tensor!.ComputeSize());
                break;
            case FloatsType:
                size += _floats!.Length * (ProtoSize.Tag(7) + 4L);
                break;
            case IntsType:
                foreach (var value in _ints!)
                {
                    size += ProtoSize.VarintField(8, value);
                }
                break;
        }
        return size;
    }

    internal void WriteTo(ProtoOutput output)
    {
        output.WriteStringField(1, Name);
        switch (_type)
        {
            case FloatType:
                output.WriteFloatField(2, _float);
                break;
            case IntType:
                output.WriteVarintField(3, _int);
                break;
            case StringType:
                output.WriteStringField(4, _string!);
                break;
            case TensorType:
                output.BeginMessage(5, _tensor!.ComputeSize());
                _tensor.WriteTo(output);
                break;
            case FloatsType:
                foreach (var value in _floats!)
                {
                    output.WriteFloatField(7, value);
                }
                break;
            case IntsType:
                foreach (var value in _ints!)
                {
                    output.WriteVarintField(8, value);
                }
                break;
        }
        output.WriteVarintField(20, _type);
    }
}

/// <summary>
/// A constant tensor (TensorProto): data inline as little-endian raw bytes, or stored outside the model file
/// (external data, which the model-folder check must vet before the runtime opens anything).
/// </summary>
public sealed class OnnxTensor
{
    private OnnxTensor(string name, TensorElementType elementType, long[] dims, ReadOnlyMemory<byte> rawData,
        IReadOnlyList<KeyValuePair<string, string>>? externalData)
    {
        Name = name;
        ElementType = elementType;
        Dims = dims;
        RawData = rawData;
        ExternalData = externalData;
    }

    public string Name { get; }

    public TensorElementType ElementType { get; }

    public IReadOnlyList<long> Dims { get; }

    public ReadOnlyMemory<byte> RawData { get; }

    /// <summary>TensorProto.external_data entries ("location", "offset", "length"), or null for inline data.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? ExternalData { get; }

    public static OnnxTensor FromFloats(string name, long[] dims, float[] values) =>
        Create(name, TensorElementType.Float, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), values.Length);

    public static OnnxTensor FromHalfs(string name, long[] dims, Half[] values) =>
        Create(name, TensorElementType.Float16, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), values.Length);

    public static OnnxTensor FromInt64s(string name, long[] dims, long[] values) =>
        Create(name, TensorElementType.Int64, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), values.Length);

    public static OnnxTensor FromInt32s(string name, long[] dims, int[] values) =>
        Create(name, TensorElementType.Int32, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), values.Length);

    /// <summary>A tensor whose data lives in another file, relative to the model's folder.</summary>
    public static OnnxTensor External(string name, TensorElementType elementType, long[] dims, string location,
        long offset, long length) =>
        new(name, elementType, dims, ReadOnlyMemory<byte>.Empty,
        [
            new("location", location),
            new("offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("length", length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ]);

    private static OnnxTensor Create(string name, TensorElementType type, long[] dims, byte[] raw, int count)
    {
        long expected = 1;
        foreach (var dim in dims)
        {
            expected *= dim;
        }
        if (expected != count)
        {
            throw new ArgumentException($"tensor '{name}' has {count} values but its shape [{string.Join(',', dims)}] holds {expected}");
        }
        return new OnnxTensor(name, type, (long[])dims.Clone(), raw, null);
    }

    internal long ComputeSize()
    {
        long size = 0;
        foreach (var dim in Dims)
        {
            size += ProtoSize.VarintField(1, dim);
        }
        size += ProtoSize.VarintField(2, (long)ElementType);
        size += ProtoSize.StringField(8, Name);
        if (ExternalData is null)
        {
            size += ProtoSize.BytesField(9, RawData.Length);
        }
        else
        {
            foreach (var (key, value) in ExternalData)
            {
                size += ProtoSize.MessageField(13, ProtoSize.StringField(1, key) + ProtoSize.StringField(2, value));
            }
            size += ProtoSize.VarintField(14, 1);
        }
        return size;
    }

    internal void WriteTo(ProtoOutput output)
    {
        foreach (var dim in Dims)
        {
            output.WriteVarintField(1, dim);
        }
        output.WriteVarintField(2, (long)ElementType);
        output.WriteStringField(8, Name);
        if (ExternalData is null)
        {
            output.WriteBytesField(9, RawData.Span);
            return;
        }
        foreach (var (key, value) in ExternalData)
        {
            output.BeginMessage(13, ProtoSize.StringField(1, key) + ProtoSize.StringField(2, value));
            output.WriteStringField(1, key);
            output.WriteStringField(2, value);
        }
        output.WriteVarintField(14, 1); // DataLocation.EXTERNAL
    }
}

/// <summary>One dimension of a declared shape: a fixed size, or a symbolic name such as "batch" or "sequence".</summary>
public readonly record struct OnnxDimension(long? Value, string? Symbol)
{
    public static implicit operator OnnxDimension(long value) => new(value, null);

    public static implicit operator OnnxDimension(string symbol) => new(null, symbol);

    public override string ToString() => Symbol ?? Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?";
}

/// <summary>A declared graph input or output (ValueInfoProto with a tensor type).</summary>
public sealed class OnnxValueInfo
{
    public OnnxValueInfo(string name, TensorElementType elementType, params OnnxDimension[] shape)
    {
        Name = name;
        ElementType = elementType;
        Shape = shape;
    }

    public string Name { get; }

    public TensorElementType ElementType { get; }

    public IReadOnlyList<OnnxDimension> Shape { get; }

    internal long ComputeSize() => ProtoSize.StringField(1, Name) + ProtoSize.MessageField(2, TypeSize());

    internal void WriteTo(ProtoOutput output)
    {
        output.WriteStringField(1, Name);
        output.BeginMessage(2, TypeSize());
        output.BeginMessage(1, TensorTypeSize());
        output.WriteVarintField(1, (long)ElementType);
        output.BeginMessage(2, ShapeSize());
        foreach (var dim in Shape)
        {
            output.BeginMessage(1, DimensionSize(dim));
            if (dim.Symbol is not null)
            {
                output.WriteStringField(2, dim.Symbol);
            }
            else
            {
                output.WriteVarintField(1, dim.Value ?? 0);
            }
        }
    }

    // TypeProto { tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 | dim_param = 2 } } } }
    private long TypeSize() => ProtoSize.MessageField(1, TensorTypeSize());

    private long TensorTypeSize() => ProtoSize.VarintField(1, (long)ElementType) + ProtoSize.MessageField(2, ShapeSize());

    private long ShapeSize()
    {
        long size = 0;
        foreach (var dim in Shape)
        {
            size += ProtoSize.MessageField(1, DimensionSize(dim));
        }
        return size;
    }

    private static long DimensionSize(OnnxDimension dim) =>
        dim.Symbol is not null ? ProtoSize.StringField(2, dim.Symbol) : ProtoSize.VarintField(1, dim.Value ?? 0);
}
