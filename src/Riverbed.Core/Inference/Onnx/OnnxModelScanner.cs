using System.IO.MemoryMappedFiles;

namespace Riverbed.Inference.Onnx;

/// <summary>A tensor whose data the model says to load from another file.</summary>
public sealed record ExternalDataReference(string TensorName, string Location);

/// <summary>An operator used by a model, with its domain ("" for default ONNX operators).</summary>
public sealed record OperatorUse(string Domain, string OpType);

/// <summary>What Riverbed checks in a model file before the runtime is allowed to open it.</summary>
public sealed class OnnxModelSummary
{
    internal OnnxModelSummary(long irVersion, IReadOnlyList<OnnxOpset> opsets,
        IReadOnlyList<ExternalDataReference> externalData, IReadOnlyList<OperatorUse> operators)
    {
        IrVersion = irVersion;
        Opsets = opsets;
        ExternalData = externalData;
        Operators = operators;
    }

    public long IrVersion { get; }

    public IReadOnlyList<OnnxOpset> Opsets { get; }

    /// <summary>Every external-data reference, in graphs, subgraphs, attributes, sparse and training tensors.</summary>
    public IReadOnlyList<ExternalDataReference> ExternalData { get; }

    /// <summary>Distinct operators, in order of first use.</summary>
    public IReadOnlyList<OperatorUse> Operators { get; }
}

/// <summary>
/// Reads the parts of an ONNX file that matter for safety before ONNX Runtime sees it: external-data locations
/// (which could point outside the model folder) and the operators used (custom domains, EPContext nodes).
/// It parses the protobuf itself and follows every place a tensor or graph can hide.
/// </summary>
public static class OnnxModelScanner
{
    // Nesting depth bound: legitimate models nest subgraphs a few levels deep; a crafted file must not overflow the stack.
    private const int MaxDepth = 64;

    /// <exception cref="InvalidDataException">The file is not a well-formed ONNX protobuf.</exception>
    public static unsafe OnnxModelSummary Scan(string path)
    {
        var length = new FileInfo(path).Length;
        if (length == 0)
        {
            throw new InvalidDataException("the file is empty");
        }
        if (length > int.MaxValue)
        {
            throw new InvalidDataException("the file is larger than 2 GiB, the protobuf limit (large weights belong in external data)");
        }
        using var mapped = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = mapped.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        try
        {
            return Scan(new ReadOnlySpan<byte>(pointer + view.PointerOffset, (int)length));
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    public static OnnxModelSummary Scan(ReadOnlySpan<byte> model)
    {
        var state = new ScanState();
        long irVersion = 0;
        var sawGraph = false;
        var reader = new ProtoReader(model);
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, WireType.Varint):
                    irVersion = (long)reader.ReadVarint();
                    break;
                case (7, WireType.LengthDelimited):
                    sawGraph = true;
                    ScanGraph(reader.ReadLengthDelimited(out var graphOffset), graphOffset, state, 1);
                    break;
                case (8, WireType.LengthDelimited):
                    state.Opsets.Add(ReadOpset(reader.ReadLengthDelimited(out var opsetOffset), opsetOffset));
                    break;
                case (20, WireType.LengthDelimited):
                    ScanTrainingInfo(reader.ReadLengthDelimited(out var trainingOffset), trainingOffset, state);
                    break;
                case (25, WireType.LengthDelimited):
                    ScanFunction(reader.ReadLengthDelimited(out var functionOffset), functionOffset, state);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        if (!sawGraph || irVersion <= 0)
        {
            throw new InvalidDataException("not an ONNX model: no ir_version or no graph");
        }
        return new OnnxModelSummary(irVersion, state.Opsets, state.External, state.Operators);
    }

    private sealed class ScanState
    {
        public readonly List<OnnxOpset> Opsets = [];
        public readonly List<ExternalDataReference> External = [];
        public readonly List<OperatorUse> Operators = [];
        public readonly HashSet<OperatorUse> SeenOperators = [];
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

    private static void ScanGraph(ReadOnlySpan<byte> data, long offset, ScanState state, int depth)
    {
        CheckDepth(depth, offset);
        var reader = new ProtoReader(data, offset);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (wire != WireType.LengthDelimited)
            {
                reader.Skip(wire);
                continue;
            }
            var payload = reader.ReadLengthDelimited(out var payloadOffset);
            switch (field)
            {
                case 1: // node
                    ScanNode(payload, payloadOffset, state, depth + 1);
                    break;
                case 5: // initializer
                    ScanTensor(payload, payloadOffset, state);
                    break;
                case 15: // sparse_initializer
                    ScanSparseTensor(payload, payloadOffset, state);
                    break;
            }
        }
    }

    private static void ScanNode(ReadOnlySpan<byte> data, long offset, ScanState state, int depth)
    {
        CheckDepth(depth, offset);
        var reader = new ProtoReader(data, offset);
        var opType = string.Empty;
        var domain = string.Empty;
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (4, WireType.LengthDelimited):
                    opType = reader.ReadString();
                    break;
                case (7, WireType.LengthDelimited):
                    domain = reader.ReadString();
                    break;
                case (5, WireType.LengthDelimited):
                    ScanAttribute(reader.ReadLengthDelimited(out var attributeOffset), attributeOffset, state, depth + 1);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        var use = new OperatorUse(domain, opType);
        if (state.SeenOperators.Add(use))
        {
            state.Operators.Add(use);
        }
    }

    private static void ScanAttribute(ReadOnlySpan<byte> data, long offset, ScanState state, int depth)
    {
        CheckDepth(depth, offset);
        var reader = new ProtoReader(data, offset);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (wire != WireType.LengthDelimited)
            {
                reader.Skip(wire);
                continue;
            }
            var payload = reader.ReadLengthDelimited(out var payloadOffset);
            switch (field)
            {
                case 5 or 10: // t, tensors
                    ScanTensor(payload, payloadOffset, state);
                    break;
                case 6 or 11: // g, graphs
                    ScanGraph(payload, payloadOffset, state, depth + 1);
                    break;
                case 22 or 23: // sparse_tensor, sparse_tensors
                    ScanSparseTensor(payload, payloadOffset, state);
                    break;
            }
        }
    }

    private static void ScanSparseTensor(ReadOnlySpan<byte> data, long offset, ScanState state)
    {
        var reader = new ProtoReader(data, offset);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if ((field == 1 || field == 2) && wire == WireType.LengthDelimited) // values, indices
            {
                ScanTensor(reader.ReadLengthDelimited(out var tensorOffset), tensorOffset, state);
            }
            else
            {
                reader.Skip(wire);
            }
        }
    }

    private static void ScanTensor(ReadOnlySpan<byte> data, long offset, ScanState state)
    {
        var reader = new ProtoReader(data, offset);
        var name = string.Empty;
        string? location = null;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 8 && wire == WireType.LengthDelimited)
            {
                name = reader.ReadString();
            }
            else if (field == 13 && wire == WireType.LengthDelimited)
            {
                var entry = new ProtoReader(reader.ReadLengthDelimited(out var entryOffset), entryOffset);
                string? key = null;
                string? value = null;
                while (entry.TryReadTag(out var entryField, out var entryWire))
                {
                    if (entryField == 1 && entryWire == WireType.LengthDelimited)
                    {
                        key = entry.ReadString();
                    }
                    else if (entryField == 2 && entryWire == WireType.LengthDelimited)
                    {
                        value = entry.ReadString();
                    }
                    else
                    {
                        entry.Skip(entryWire);
                    }
                }
                if (key == "location")
                {
                    location = value ?? string.Empty;
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }
        if (location is not null)
        {
            state.External.Add(new ExternalDataReference(name, location));
        }
    }

    private static void ScanTrainingInfo(ReadOnlySpan<byte> data, long offset, ScanState state)
    {
        var reader = new ProtoReader(data, offset);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if ((field == 1 || field == 2) && wire == WireType.LengthDelimited) // initialization, algorithm
            {
                ScanGraph(reader.ReadLengthDelimited(out var graphOffset), graphOffset, state, 2);
            }
            else
            {
                reader.Skip(wire);
            }
        }
    }

    private static void ScanFunction(ReadOnlySpan<byte> data, long offset, ScanState state)
    {
        var reader = new ProtoReader(data, offset);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 7 && wire == WireType.LengthDelimited) // FunctionProto.node
            {
                ScanNode(reader.ReadLengthDelimited(out var nodeOffset), nodeOffset, state, 2);
            }
            else
            {
                reader.Skip(wire);
            }
        }
    }

    private static void CheckDepth(int depth, long offset)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"graphs nested more than {MaxDepth} levels deep at byte {offset}");
        }
    }
}
