using Riverbed.Inference;

namespace Riverbed.Core.Tests.Inference;

public sealed class OrtTensorTests
{
    [Fact]
    public void A_tensor_knows_its_shape_type_and_count_and_starts_zeroed()
    {
        using var tensor = OrtTensor.Create<long>(2, 3, 4);

        Assert.Equal([2L, 3L, 4L], tensor.Shape.ToArray());
        Assert.Equal(TensorElementType.Int64, tensor.ElementType);
        Assert.Equal(24, tensor.ElementCount);
        Assert.Equal(24, tensor.Span.Length);
        Assert.All(tensor.Span.ToArray(), value => Assert.Equal(0, value));
    }

    [Fact]
    public void Values_that_do_not_fill_the_shape_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => OrtTensor.Create([2, 2], new[] { 1, 2, 3 }));
        Assert.Contains("3 values do not fill a tensor of shape [2, 2]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_dimensions_are_refused()
    {
        Assert.Throws<ArgumentException>(() => OrtTensor.Create<float>(2, -1));
    }

    [Fact]
    public void Types_without_an_onnx_element_type_are_refused()
    {
        Assert.Throws<NotSupportedException>(() => OrtTensor.Create<decimal>(1));
    }

    [Fact]
    public void Tensor_memory_is_64_byte_aligned_and_reused_after_dispose()
    {
        var pool = new PinnedBufferPool();
        var first = pool.Rent(1000);
        var address = first.Address;
        first.Dispose();
        first.Dispose(); // returned once, not twice

        using var second = pool.Rent(600);   // same 1 KiB bucket
        using var third = pool.Rent(1000);   // the bucket is empty again: a new buffer

        Assert.Equal(0, address % 64);
        Assert.Equal(address, second.Address);
        Assert.NotEqual(address, third.Address);
    }
}
