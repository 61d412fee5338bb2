using System.Runtime.CompilerServices;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Riverbed.Inference;

/// <summary>
/// A tensor in pinned managed memory that ONNX Runtime reads and writes in place (no copy on the way in or out).
/// Memory comes from a pool of pinned buffers and goes back to it when the tensor is disposed — or later, when a Run
/// or an <see cref="IoBinding"/> that still references it lets go — so a pipeline that creates tensors of similar sizes
/// batch after batch stops allocating.
/// </summary>
public abstract class OrtTensor : IDisposable
{
    private readonly long[] _shape;
    private readonly Ort.OrtValue _value;
    private readonly PinnedBuffer _buffer;
    private int _references = 1; // the owner's; each Run or binding that uses the tensor adds one
    private int _disposed;

    private protected OrtTensor(TensorElementType elementType, long[] shape, long elementCount, Ort.OrtValue value, PinnedBuffer buffer)
    {
        ElementType = elementType;
        _shape = shape;
        ElementCount = elementCount;
        _value = value;
        _buffer = buffer;
    }

    /// <summary>A zero-filled tensor of the given shape, its memory rented from the shared pool.</summary>
    public static OrtTensor<T> Create<T>(params ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        var tensor = CreateUninitialized<T>(shape);
        tensor.Span.Clear();
        return tensor;
    }

    /// <summary>A tensor holding a copy of <paramref name="values"/>, which must fill the shape exactly.</summary>
    public static OrtTensor<T> Create<T>(ReadOnlySpan<long> shape, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        var tensor = CreateUninitialized<T>(shape);
        if (values.Length != tensor.ElementCount)
        {
            tensor.Dispose();
            throw new ArgumentException(
                $"{values.Length} values do not fill a tensor of shape [{string.Join(", ", shape.ToArray())}] ({tensor.ElementCount} elements)", nameof(values));
        }
        values.CopyTo(tensor.Span);
        return tensor;
    }

    /// <summary>A tensor whose elements are left as the pool had them: for callers that overwrite every element.</summary>
    public static OrtTensor<T> CreateUninitialized<T>(params ReadOnlySpan<long> shape)
        where T : unmanaged
    {
        var elementType = TensorElementTypes.Of<T>();
        var count = CountElements(shape);
        if (count > int.MaxValue)
        {
            throw new ArgumentException($"a tensor of {count} elements is larger than one span can address", nameof(shape));
        }
        var shapeCopy = shape.ToArray();
        var byteCount = count * Unsafe.SizeOf<T>();
        OrtRuntime.Load(); // a clear error when the native library is missing, before the first native call
        var buffer = PinnedBufferPool.Shared.Rent(byteCount);
        try
        {
            // Riverbed's element types carry ONNX's numbers, which ONNX Runtime's enum shares.
            var value = RuntimeErrors.Call(() => Ort.OrtValue.CreateTensorValueWithData(Ort.OrtMemoryInfo.DefaultInstance,
                (Ort.Tensors.TensorElementType)(int)elementType, shapeCopy, buffer.Address, byteCount), "creating a tensor");
            return new OrtTensor<T>(elementType, shapeCopy, count, value, buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    public TensorElementType ElementType { get; }

    public ReadOnlySpan<long> Shape => _shape;

    public int Rank => _shape.Length;

    public long ElementCount { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    private protected unsafe byte* Data => _buffer.Pointer;

    /// <summary>
    /// The runtime's value for this tensor, held alive (memory not returned to the pool) until the lease is disposed;
    /// only code in Inference/ sees it.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The owner already disposed the tensor.</exception>
    internal TensorLease Lease()
    {
        while (true)
        {
            var references = Volatile.Read(ref _references);
            ObjectDisposedException.ThrowIf(references == 0 || IsDisposed, this);
            if (Interlocked.CompareExchange(ref _references, references + 1, references) == references)
            {
                return new TensorLease(this, _value);
            }
        }
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _value.Dispose();
            _buffer.Dispose();
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Release();
        }
    }

    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    /// <summary>Validates a shape and returns its element count.</summary>
    private protected static long CountElements(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var dimension in shape)
        {
            if (dimension < 0)
            {
                throw new ArgumentException($"tensor dimensions must be 0 or more; got [{string.Join(", ", shape.ToArray())}]", nameof(shape));
            }
            count = checked(count * dimension);
        }
        return count;
    }
}

/// <summary>A tensor of <typeparamref name="T"/> (float, Half, long, int, …) with its data as a <see cref="Span{T}"/>.</summary>
public sealed unsafe class OrtTensor<T> : OrtTensor
    where T : unmanaged
{
    internal OrtTensor(TensorElementType elementType, long[] shape, long elementCount, Ort.OrtValue value, PinnedBuffer buffer)
        : base(elementType, shape, elementCount, value, buffer)
    {
    }

    /// <summary>The tensor's elements in row-major order. Do not use the span after disposing the tensor.</summary>
    public Span<T> Span
    {
        get
        {
            ThrowIfDisposed();
            return new Span<T>(Data, (int)ElementCount);
        }
    }
}

/// <summary>A tensor paired with the model input or output name it is for.</summary>
public readonly record struct NamedTensor(string Name, OrtTensor Tensor)
{
    public static implicit operator NamedTensor((string Name, OrtTensor Tensor) pair) => new(pair.Name, pair.Tensor);
}

/// <summary>One use of a tensor's runtime value (a Run, a binding); disposing it lets the memory go back to the pool.</summary>
internal sealed class TensorLease : IDisposable
{
    private OrtTensor? _tensor;

    public TensorLease(OrtTensor tensor, Ort.OrtValue value)
    {
        _tensor = tensor;
        Value = value;
    }

    public Ort.OrtValue Value { get; }

    public void Dispose() => Interlocked.Exchange(ref _tensor, null)?.Release();
}
