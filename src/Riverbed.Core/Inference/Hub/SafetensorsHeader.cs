using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Riverbed.Inference.Hub;

/// <summary>One tensor of a safetensors file: element type, shape and where its bytes lie (absolute file offsets).</summary>
public sealed record SafetensorsTensor(string Name, string DType, IReadOnlyList<long> Shape, long Start, long End)
{
    public long Length => End - Start;

    public long ElementCount => Shape.Aggregate(1L, (product, dim) => product * dim);
}

/// <summary>
/// The header of a safetensors file, parsed and checked without reading the tensors: an 8-byte little-endian header
/// length, a UTF-8 JSON object mapping names to {dtype, shape, data_offsets} (plus an optional string-to-string
/// <c>__metadata__</c>), then the tensors' bytes, which the offsets address relative to the end of the header. Anything
/// outside that shape is refused with the file's name, so a crafted or truncated file never decides what is read.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>A header larger than this is refused: real ones are kilobytes, and the bound keeps a bad file from asking for gigabytes.</summary>
    public const long MaxHeaderBytes = 100L << 20;

    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1,
        ["U64"] = 8, ["U32"] = 4, ["U16"] = 2, ["U8"] = 1, ["BOOL"] = 1, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1,
    };

    private SafetensorsHeader(string source, long dataStart, IReadOnlyDictionary<string, SafetensorsTensor> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        Source = source;
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>What the header was read from (a file name or URL), for messages.</summary>
    public string Source { get; }

    /// <summary>The file offset of the first tensor byte: 8 + the header's length.</summary>
    public long DataStart { get; }

    public IReadOnlyDictionary<string, SafetensorsTensor> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Reads the header length from a file's first 8 bytes, refusing lengths no real header has.</summary>
    public static long ReadHeaderLength(ReadOnlySpan<byte> first8, string source, long? fileLength)
    {
        if (first8.Length < 8)
        {
            throw new InvalidDataException($"{source}: not a safetensors file: it is shorter than the 8-byte header length");
        }
        var length = BinaryPrimitives.ReadUInt64LittleEndian(first8);
        if (length < 2 || length > MaxHeaderBytes)
        {
            throw new InvalidDataException($"{source}: not a safetensors file: its header length is {length} bytes " +
                $"(a header is a JSON object of at most {MaxHeaderBytes >> 20} MiB)");
        }
        if (fileLength is { } total && (long)length + 8 > total)
        {
            throw new InvalidDataException($"{source}: its header claims {length} bytes but the file has only {total}");
        }
        return (long)length;
    }

    /// <summary>
    /// Parses the JSON header (the bytes after the 8-byte length). <paramref name="fileLength"/>, when known, bounds the
    /// offsets: every tensor must lie inside the file, tensors must not overlap, and each one's byte length must equal
    /// its shape times its element size.
    /// </summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, string source, long? fileLength)
    {
        var dataStart = 8L + json.Length;
        JsonDocument document;
        try
        {
            // Strict UTF-8 and no duplicate names: a name given twice could mean two different tensors to two readers.
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(json);
            document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 8 });
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"{source}: the safetensors header is not valid UTF-8");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{source}: the safetensors header {JsonErrors.NotValidJson(error)}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{source}: the safetensors header must be a JSON object");
            }
            var tensors = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in root.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    ReadMetadata(entry.Value, source, metadata);
                    continue;
                }
                tensors[entry.Name] = ReadTensor(entry.Name, entry.Value, source, dataStart);
            }
            CheckLayout(tensors.Values, source, fileLength);
            return new SafetensorsHeader(source, dataStart, tensors, metadata);
        }
    }

    /// <summary>The named tensor, refused unless it exists with exactly <paramref name="shape"/> and a supported float type.</summary>
    public SafetensorsTensor Require(string name, params long[] shape)
    {
        if (!Tensors.TryGetValue(name, out var tensor))
        {
            throw new InvalidDataException($"{Source}: has no tensor '{name}'");
        }
        if (!tensor.Shape.SequenceEqual(shape))
        {
            throw new InvalidDataException($"{Source}: tensor '{name}' has shape [{string.Join(", ", tensor.Shape)}]; expected [{string.Join(", ", shape)}]");
        }
        if (tensor.DType is not ("F32" or "F16" or "BF16"))
        {
            throw new InvalidDataException($"{Source}: tensor '{name}' is {tensor.DType}; only F32, F16 and BF16 weights are supported");
        }
        return tensor;
    }

    /// <summary>Widens a tensor's little-endian bytes (F32, F16 or BF16) to float32.</summary>
    public static float[] ToFloats(SafetensorsTensor tensor, ReadOnlySpan<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (bytes.Length != tensor.Length)
        {
            throw new InvalidDataException($"tensor '{tensor.Name}': got {bytes.Length} bytes; it has {tensor.Length}");
        }
        var values = new float[tensor.ElementCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = tensor.DType switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]),
                // bfloat16 is the top half of a float32.
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]) << 16),
                _ => throw new InvalidDataException($"tensor '{tensor.Name}' is {tensor.DType}; only F32, F16 and BF16 can be read as floats"),
            };
        }
        return values;
    }

    private static void ReadMetadata(JsonElement value, string source, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{source}: __metadata__ must be an object of strings");
        }
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new InvalidDataException($"{source}: __metadata__ \"{item.Name}\" must be a string");
            }
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafetensorsTensor ReadTensor(string name, JsonElement value, string source, long dataStart)
    {
        string Bad(string what) => $"{source}: tensor '{name}' {what}";
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException(Bad("must be an object with dtype, shape and data_offsets"));
        }
        string? dtype = null;
        List<long>? shape = null;
        List<long>? offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when field.Value.ValueKind == JsonValueKind.String:
                    dtype = field.Value.GetString();
                    break;
                case "shape":
                    shape = ReadIntegers(field.Value, Bad("has a shape that is not a list of non-negative integers"));
                    break;
                case "data_offsets":
                    offsets = ReadIntegers(field.Value, Bad("has data_offsets that are not two non-negative integers"));
                    break;
                default:
                    throw new InvalidDataException(Bad($"has an unexpected field '{field.Name}'"));
            }
        }
        if (dtype is null || shape is null || offsets is null)
        {
            throw new InvalidDataException(Bad("lacks dtype, shape or data_offsets"));
        }
        if (!ElementSizes.TryGetValue(dtype, out var size))
        {
            throw new InvalidDataException(Bad($"has an unknown dtype '{dtype}'"));
        }
        if (offsets.Count != 2 || offsets[0] > offsets[1])
        {
            throw new InvalidDataException(Bad($"has data_offsets [{string.Join(", ", offsets)}]; they must be [start, end] with start ≤ end"));
        }
        long count = 1;
        foreach (var dim in shape)
        {
            count = dim == 0 ? 0 : count > long.MaxValue / dim ? throw new InvalidDataException(Bad("has a shape too large to address")) : count * dim;
        }
        if (count > long.MaxValue / size || count * size != offsets[1] - offsets[0])
        {
            throw new InvalidDataException(Bad(string.Create(CultureInfo.InvariantCulture,
                $"spans {offsets[1] - offsets[0]} bytes but its shape [{string.Join(", ", shape)}] of {dtype} needs {count * size}")));
        }
        if (offsets[1] > long.MaxValue - dataStart)
        {
            throw new InvalidDataException(Bad("has offsets too large to address"));
        }
        return new SafetensorsTensor(name, dtype, shape, dataStart + offsets[0], dataStart + offsets[1]);
    }

    private static List<long> ReadIntegers(JsonElement value, string error)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException(error);
        }
        var result = new List<long>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number) || number < 0)
            {
                throw new InvalidDataException(error);
            }
            result.Add(number);
        }
        return result;
    }

    private static void CheckLayout(IEnumerable<SafetensorsTensor> tensors, string source, long? fileLength)
    {
        SafetensorsTensor? previous = null;
        foreach (var tensor in tensors.Where(t => t.Length > 0).OrderBy(t => t.Start))
        {
            if (previous is not null && tensor.Start < previous.End)
            {
                throw new InvalidDataException($"{source}: tensors '{previous.Name}' and '{tensor.Name}' overlap");
            }
            if (fileLength is { } total && tensor.End > total)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{source}: tensor '{tensor.Name}' ends at byte {tensor.End}, beyond the end of the file ({total} bytes)"));
            }
            previous = tensor;
        }
    }
}
