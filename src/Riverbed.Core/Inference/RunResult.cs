using System.Collections;
using Riverbed.Inference.Native;

namespace Riverbed.Inference;

/// <summary>
/// The outputs of one Run, owned by this object. Output data is read in place from the memory ONNX Runtime wrote it
/// to: spans from <see cref="OutputTensor.GetData{T}"/> stay valid until the result is disposed, and must not be
/// used after that. Dispose it as soon as the data has been read, so the runtime can reuse the memory.
/// </summary>
public sealed class RunResult : IReadOnlyList<OutputTensor>, IDisposable
{
    private readonly ValueHandle[] _values;
    private readonly OutputTensor[] _outputs;

    internal RunResult(IReadOnlyList<string> names, ValueHandle[] values)
    {
        _values = values;
        _outputs = new OutputTensor[values.Length];
        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                _outputs[i] = new OutputTensor(this, names[i], values[i].DangerousGetHandle());
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Count => _outputs.Length;

    public bool IsDisposed { get; private set; }

    public OutputTensor this[int index] => _outputs[index];

    /// <exception cref="KeyNotFoundException">No output of that name was requested.</exception>
    public OutputTensor this[string name]
    {
        get
        {
            foreach (var output in _outputs)
            {
                if (output.Name == name)
                {
                    return output;
                }
            }
            throw new KeyNotFoundException($"this result has no output named '{name}'; it has {string.Join(", ", _outputs.Select(o => $"'{o.Name}'"))}");
        }
    }

    public IEnumerator<OutputTensor> GetEnumerator() => ((IEnumerable<OutputTensor>)_outputs).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        IsDisposed = true;
        foreach (var value in _values)
        {
            value.Dispose();
        }
    }
}

/// <summary>One output of a Run: name, element type, shape, and its data as a read-only span (no copy).</summary>
public sealed unsafe class OutputTensor
{
    private const int CpuDevice = 0; // OrtMemoryInfoDeviceType_CPU

    private readonly RunResult _owner;
    private readonly long[] _shape;
    private readonly void* _data;

    internal OutputTensor(RunResult owner, string name, nint value)
    {
        _owner = owner;
        Name = name;
        var context = $"reading output '{name}'";
        nint info;
        OrtStatus.Check(OrtApi.GetTensorTypeAndShape(value, &info), context);
        try
        {
            int elementType;
            nuint rank;
            OrtStatus.Check(OrtApi.GetTensorElementType(info, &elementType), context);
            OrtStatus.Check(OrtApi.GetDimensionsCount(info, &rank), context);
            _shape = new long[(int)rank];
            fixed (long* dims = _shape)
            {
                OrtStatus.Check(OrtApi.GetDimensions(info, dims, rank), context);
            }
            ElementType = (TensorElementType)elementType;
        }
        finally
        {
            OrtApi.ReleaseTensorTypeAndShapeInfo(info);
        }
        ElementCount = 1;
        foreach (var dimension in _shape)
        {
            ElementCount *= dimension;
        }
        nint memoryInfo;
        OrtStatus.Check(OrtApi.GetTensorMemoryInfo(value, &memoryInfo), context);
        int deviceType;
        OrtApi.MemoryInfoGetDeviceType(memoryInfo, &deviceType);
        IsOnHost = deviceType == CpuDevice;
        void* data;
        OrtStatus.Check(OrtApi.GetTensorMutableData(value, &data), context);
        _data = data;
    }

    public string Name { get; }

    public TensorElementType ElementType { get; }

    public ReadOnlySpan<long> Shape => _shape;

    public long ElementCount { get; }

    /// <summary>False for an output left in device memory by an <see cref="IoBinding"/> (CUDA); its data cannot be read here.</summary>
    public bool IsOnHost { get; }

    /// <summary>
    /// The output's elements, read where ONNX Runtime wrote them. Valid until the <see cref="RunResult"/> is disposed.
    /// </summary>
    /// <exception cref="InvalidOperationException">Wrong element type, data on a device, or the result is disposed.</exception>
    public ReadOnlySpan<T> GetData<T>()
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_owner.IsDisposed, _owner);
        var requested = TensorElementTypes.Of<T>();
        if (requested != ElementType)
        {
            throw new InvalidOperationException(
                $"output '{Name}' holds {ElementType.DisplayName()} elements; it was read as {requested.DisplayName()}");
        }
        if (!IsOnHost)
        {
            throw new InvalidOperationException(
                $"output '{Name}' is in device memory (bound with BindOutputToDevice); bind it to a tensor to read it on the host");
        }
        if (ElementCount > int.MaxValue)
        {
            throw new InvalidOperationException($"output '{Name}' has {ElementCount} elements, more than one span can address");
        }
        return new ReadOnlySpan<T>(_data, (int)ElementCount);
    }

    public override string ToString() => $"{Name}: {ElementType.DisplayName()}[{string.Join(", ", _shape)}]";
}
