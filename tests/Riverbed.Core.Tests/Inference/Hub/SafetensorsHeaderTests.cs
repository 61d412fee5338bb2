using System.Buffers.Binary;
using System.Text;
using Riverbed.Inference.Hub;

namespace Riverbed.Core.Tests.Inference.Hub;

public sealed class SafetensorsHeaderTests
{
    [Fact]
    public void A_well_formed_header_gives_each_tensor_its_absolute_byte_range()
    {
        var file = HubModels.Safetensors(HubModels.HeadTensors(hidden: 4));

        var header = Read(file);

        var dense = header.Tensors["discriminator_predictions.dense.weight"];
        Assert.Equal("F32", dense.DType);
        Assert.Equal([4L, 4L], dense.Shape);
        Assert.Equal(header.DataStart + (4 * 4 * 4), dense.Start);
        Assert.Equal(64, dense.Length);
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(file.Length, header.Tensors.Values.Max(t => t.End));
    }

    [Fact]
    public void F16_and_BF16_values_widen_to_the_floats_they_encode()
    {
        var half = new byte[4];
        BinaryPrimitives.WriteHalfLittleEndian(half, (Half)1.5f);
        BinaryPrimitives.WriteHalfLittleEndian(half.AsSpan(2), (Half)(-0.25f));
        var brain = new byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(brain, (ushort)(BitConverter.SingleToInt32Bits(3.0f) >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(brain.AsSpan(2), (ushort)(BitConverter.SingleToInt32Bits(-0.5f) >> 16));

        Assert.Equal([1.5f, -0.25f], SafetensorsHeader.ToFloats(new SafetensorsTensor("h", "F16", [2], 0, 4), half));
        Assert.Equal([3.0f, -0.5f], SafetensorsHeader.ToFloats(new SafetensorsTensor("b", "BF16", [2], 0, 4), brain));
    }

    [Theory]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 12]}}", "spans 12 bytes but its shape [2] of F32 needs 8")]
    [InlineData("{\"a\": {\"dtype\": \"Q4\", \"shape\": [2], \"data_offsets\": [0, 8]}}", "unknown dtype 'Q4'")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", "overlap")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [1000], \"data_offsets\": [0, 4000]}}", "beyond the end of the file")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", "start ≤ end")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", "not a list of non-negative integers")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8], \"extra\": 1}}", "unexpected field 'extra'")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", "not valid JSON")]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("{\"__metadata__\": {\"format\": 7}}", "__metadata__ \"format\" must be a string")]
    public void A_header_that_breaks_the_format_is_refused_with_the_reason(string json, string reason)
    {
        var file = WithHeader(json, dataBytes: 16);

        var error = Assert.Throws<InvalidDataException>(() => Read(file));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("ckpt.safetensors", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_length_larger_than_any_real_header_or_the_file_is_refused()
    {
        var huge = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        var past = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(past, 1000);

        Assert.Contains("header length", Assert.Throws<InvalidDataException>(() => SafetensorsHeader.ReadHeaderLength(huge, "x", 100)).Message, StringComparison.Ordinal);
        Assert.Contains("only 100", Assert.Throws<InvalidDataException>(() => SafetensorsHeader.ReadHeaderLength(past, "x", 100)).Message, StringComparison.Ordinal);
        Assert.Contains("shorter than", Assert.Throws<InvalidDataException>(() => SafetensorsHeader.ReadHeaderLength([1, 2], "x", 2)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_that_is_not_UTF8_is_refused()
    {
        var error = Assert.Throws<InvalidDataException>(() => SafetensorsHeader.Parse(new byte[] { (byte)'{', 0xff, (byte)'}' }, "x", null));

        Assert.Contains("not valid UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Require_refuses_a_missing_tensor_a_wrong_shape_and_an_integer_type()
    {
        var header = Read(WithHeader("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [0, 16]}, \"i\": {\"dtype\": \"I32\", \"shape\": [2], \"data_offsets\": [16, 24]}}", 24));

        Assert.Contains("has no tensor 'x'", Assert.Throws<InvalidDataException>(() => header.Require("x", 2)).Message, StringComparison.Ordinal);
        Assert.Contains("has shape [2, 2]; expected [4, 4]", Assert.Throws<InvalidDataException>(() => header.Require("w", 4, 4)).Message, StringComparison.Ordinal);
        Assert.Contains("is I32; only F32, F16 and BF16", Assert.Throws<InvalidDataException>(() => header.Require("i", 2)).Message, StringComparison.Ordinal);
    }

    private static SafetensorsHeader Read(byte[] file)
    {
        var length = SafetensorsHeader.ReadHeaderLength(file, "ckpt.safetensors", file.Length);
        return SafetensorsHeader.Parse(file.AsSpan(8, (int)length), "ckpt.safetensors", file.Length);
    }

    private static byte[] WithHeader(string json, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var file = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        return file;
    }
}
