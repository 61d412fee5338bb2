using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Riverbed.Inference;

/// <summary>
/// Reusable buffers for tensor data: allocated on the pinned object heap (so ONNX Runtime can hold their address for
/// as long as it likes, and the GC never has to work around a pin), aligned to 64 bytes for SIMD kernels, and
/// bucketed by power-of-two size so a pipeline that sends batches of similar shapes stops allocating after warm-up.
/// </summary>
internal sealed unsafe class PinnedBufferPool
{
    private const int Alignment = 64;
    private const int SmallestBucketShift = 8;   // 256 bytes
    private const int LargestBucketShift = 30;   // 1 GiB; larger buffers are allocated and dropped
    private const int BuffersPerBucket = 16;
    private const long BytesPerBucket = 256L << 20; // so a few huge one-off tensors do not pin gigabytes for ever

    private readonly ConcurrentQueue<byte[]>[] _buckets;

    public PinnedBufferPool()
    {
        _buckets = new ConcurrentQueue<byte[]>[LargestBucketShift - SmallestBucketShift + 1];
        for (var i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new ConcurrentQueue<byte[]>();
        }
    }

    public static PinnedBufferPool Shared { get; } = new();

    /// <summary>A buffer of at least <paramref name="byteCount"/> bytes; its contents are whatever was there before.</summary>
    public PinnedBuffer Rent(long byteCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteCount);
        var shift = Math.Max(SmallestBucketShift, byteCount <= 1 ? 0 : 64 - BitOperations.LeadingZeroCount((ulong)byteCount - 1));
        byte[]? array = null;
        if (shift <= LargestBucketShift)
        {
            _buckets[shift - SmallestBucketShift].TryDequeue(out array);
            array ??= GC.AllocateUninitializedArray<byte>((1 << shift) + Alignment, pinned: true);
        }
        else
        {
            if (byteCount > Array.MaxLength - Alignment)
            {
                throw new ArgumentOutOfRangeException(nameof(byteCount), byteCount, "a tensor buffer cannot exceed 2 GiB");
            }
            array = GC.AllocateUninitializedArray<byte>((int)byteCount + Alignment, pinned: true);
        }
        return new PinnedBuffer(this, array, byteCount);
    }

    internal void Return(byte[] array)
    {
        var capacity = array.Length - Alignment;
        if (!BitOperations.IsPow2(capacity))
        {
            return;
        }
        var shift = BitOperations.Log2((uint)capacity);
        if (shift is < SmallestBucketShift or > LargestBucketShift)
        {
            return;
        }
        var bucket = _buckets[shift - SmallestBucketShift];
        var keep = (int)Math.Clamp(BytesPerBucket >> shift, 1, BuffersPerBucket);
        if (bucket.Count < keep)
        {
            bucket.Enqueue(array);
        }
    }

    internal static byte* AlignedStart(byte[] array)
    {
        // Pinned-heap arrays never move, so their address is stable without a GCHandle.
        var start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (byte*)(((nuint)start + (Alignment - 1)) & ~(nuint)(Alignment - 1));
    }
}

/// <summary>One rented buffer; disposing returns it to the pool exactly once.</summary>
internal sealed unsafe class PinnedBuffer : IDisposable
{
    private readonly PinnedBufferPool _pool;
    private byte[]? _array;

    public PinnedBuffer(PinnedBufferPool pool, byte[] array, long length)
    {
        _pool = pool;
        _array = array;
        Length = length;
        Pointer = PinnedBufferPool.AlignedStart(array);
    }

    public byte* Pointer { get; }

    /// <summary>The start address as a number (for code and tests that do not use pointers).</summary>
    public nint Address => (nint)Pointer;

    public long Length { get; }

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            _pool.Return(array);
        }
    }
}
