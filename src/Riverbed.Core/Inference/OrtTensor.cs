using System.Runtime.CompilerServices;
using Riverbed.Inference.Native;

namespace Riverbed.Inference;

/// <summary>
/// A tensor in pinned managed memory that ONNX Runtime reads and writes in place (no copy on the way in or out).
/// Memory comes from a pool of pinned buffers and goes back to it when the tensor is disposed — or later, when an
/// <see cref="IoBinding"/> that still references it lets go — so a pipeline that creates tensors of similar sizes
/// batch after batch stops allocating.
/// </summary>
public abstract class OrtTensor : IDisposable
{
    private readonly long[] _shape;

    private protected OrtTensor(TensorElementType elementType, long[] shape, long elementCount, ValueHandle handle)
    {
        ElementType = elementType;
        _shape = shape;
        ElementCount = elementCount;
        Handle = handle;
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
    public static unsafe OrtTensor<T> CreateUninitialized<T>(params ReadOnlySpan<long> shape)
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
        var cpu = CpuMemory.Info; // also loads the runtime on first use
        var buffer = PinnedBufferPool.Shared.Rent(byteCount);
        var handle = new ValueHandle();
        try
        {
            nint value;
            fixed (long* dims = shapeCopy)
            {
                OrtStatus.Check(OrtApi.CreateTensorWithDataAsOrtValue(cpu, buffer.Pointer, (nuint)byteCount, dims,
                    (nuint)shapeCopy.Length, (int)elementType, &value), "creating a tensor");
            }
            handle.Own(value);
            handle.Keeper = buffer;
        }
        catch
        {
            handle.Dispose();
            buffer.Dispose();
            throw;
        }
        return new OrtTensor<T>(elementType, shapeCopy, count, handle, buffer.Pointer);
    }

    public TensorElementType ElementType { get; }

    public ReadOnlySpan<long> Shape => _shape;

    public int Rank => _shape.Length;

    public long ElementCount { get; }

    public bool IsDisposed => Handle.IsClosed;

    internal ValueHandle Handle { get; }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Handle.Dispose();
        }
    }

    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Handle.IsClosed, this);

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
    private readonly byte* _data;

    internal OrtTensor(TensorElementType elementType, long[] shape, long elementCount, ValueHandle handle, byte* data)
        : base(elementType, shape, elementCount, handle)
    {
        _data = data;
    }

    /// <summary>The tensor's elements in row-major order. Do not use the span after disposing the tensor.</summary>
    public Span<T> Span
    {
        get
        {
            ThrowIfDisposed();
            return new Span<T>(_data, (int)ElementCount);
        }
    }
}

/// <summary>A tensor paired with the model input or output name it is for.</summary>
public readonly record struct NamedTensor(string Name, OrtTensor Tensor)
{
    public static implicit operator NamedTensor((string Name, OrtTensor Tensor) pair) => new(pair.Name, pair.Tensor);
}
