using System.Collections;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Riverbed.Inference;

/// <summary>
/// The outputs of one Run, owned by this object. Output data is read in place from the memory ONNX Runtime wrote it
/// to: spans from <see cref="OutputTensor.GetData{T}"/> stay valid until the result is disposed, and must not be
/// used after that. Dispose it as soon as the data has been read, so the runtime can reuse the memory.
/// </summary>
public sealed class RunResult : IReadOnlyList<OutputTensor>, IDisposable
{
    private readonly IDisposable _values;
    private readonly OutputTensor[] _outputs;

    /// <summary>Takes ownership of <paramref name="owner"/>, which releases <paramref name="values"/> when disposed.</summary>
    internal RunResult(IReadOnlyList<string> names, IReadOnlyList<Ort.OrtValue> values, IDisposable owner)
    {
        _values = owner;
        _outputs = new OutputTensor[values.Count];
        try
        {
            for (var i = 0; i < _outputs.Length; i++)
            {
                _outputs[i] = new OutputTensor(this, names[i], values[i]);
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
        if (IsDisposed)
        {
            return;
        }
        IsDisposed = true;
        _values.Dispose();
    }
}

/// <summary>One output of a Run: name, element type, shape, and its data as a read-only span (no copy).</summary>
public sealed unsafe class OutputTensor
{
    private readonly RunResult _owner;
    private readonly long[] _shape;
    private readonly void* _data;

    internal OutputTensor(RunResult owner, string name, Ort.OrtValue value)
    {
        _owner = owner;
        Name = name;
        var context = $"reading output '{name}'";
        (ElementType, _shape, IsOnHost) = RuntimeErrors.Call(() =>
        {
            var info = value.GetTensorTypeAndShape();
            using var memory = value.GetTensorMemoryInfo();
            return ((TensorElementType)(int)info.ElementDataType, info.Shape ?? [], memory.GetDeviceType() == Ort.OrtMemoryInfoDeviceType.CPU);
        }, context);
        ElementCount = 1;
        foreach (var dimension in _shape)
        {
            ElementCount *= dimension;
        }
        // The raw bytes wherever the runtime put them; the pointer stays valid while the value lives (until the owner
        // is disposed). Device memory is never read through it.
        _data = ElementCount == 0 || !IsOnHost
            ? null
            : RawData(value, context);
    }

    public string Name { get; }

    public TensorElementType ElementType { get; }

    private static void* RawData(Ort.OrtValue value, string context)
    {
        try
        {
            return Unsafe.AsPointer(ref MemoryMarshal.GetReference(value.GetTensorMutableRawData()));
        }
        catch (Ort.OnnxRuntimeException error)
        {
            throw RuntimeErrors.FromRuntime(error, context);
        }
    }

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

/// <summary>Disposes a set of values the runtime returned (a result's, or a Run's own when it could not be wrapped).</summary>
internal sealed class OwnedValues(IEnumerable<IDisposable> values) : IDisposable
{
    public void Dispose()
    {
        foreach (var value in values)
        {
            value.Dispose();
        }
    }
}
