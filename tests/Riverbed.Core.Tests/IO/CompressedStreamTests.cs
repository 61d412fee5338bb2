using System.Text;
using Riverbed.IO;
using Riverbed.IO.Reading;
using ZstdSharp;

namespace Riverbed.Core.Tests.IO;

/// <summary>The .zst and .xz readers: whole files read in full, anything cut, damaged or appended is an error.</summary>
public sealed class CompressedStreamTests
{
    private static readonly byte[] Data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 5000).Select(i => $"{{\"n\":{i}}}\n")));

    private static byte[] ReadAll(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static byte[] Zstd(byte[] data)
    {
        using var compressed = new MemoryStream();
        using (var zstd = new CompressionStream(compressed, 3))
        {
            zstd.Write(data);
        }
        return compressed.ToArray();
    }

    [Fact]
    public void Concatenated_xz_streams_with_padding_are_read_to_the_end()
    {
        using var scratch = new ScratchFolder("xz");
        var path = scratch.File("two.jsonl.xz");
        File.WriteAllBytes(path, [.. XzFile.Compress(Data), 0, 0, 0, 0, .. XzFile.Compress(Data)]);
        using var stream = new XzFileStream(path, long.MaxValue);
        Assert.Equal([.. Data, .. Data], ReadAll(stream));
    }

    [Fact]
    public void Bytes_after_an_xz_stream_that_are_not_another_stream_are_an_error_not_ignored()
    {
        using var scratch = new ScratchFolder("xz");
        var path = scratch.File("tail.jsonl.xz");
        File.WriteAllBytes(path, [.. XzFile.Compress(Data), .. "{\"n\":-1}\n"u8]);
        using var stream = new XzFileStream(path, long.MaxValue);
        var error = Assert.Throws<InvalidDataException>(() => ReadAll(stream));
        Assert.Contains("are not another xz stream", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_xz_block_fails_its_check()
    {
        using var scratch = new ScratchFolder("xz");
        var path = scratch.File("flipped.jsonl.xz");
        var bytes = XzFile.Compress(Data);
        bytes[bytes.Length / 2] ^= 0x20;
        File.WriteAllBytes(path, bytes);
        using var stream = new XzFileStream(path, long.MaxValue);
        var error = Assert.Throws<InvalidDataException>(() => ReadAll(stream));
        Assert.Contains("the xz stream breaks off or is damaged", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Concatenated_zstd_frames_are_read_and_a_cut_frame_is_an_error()
    {
        using var scratch = new ScratchFolder("zstd");
        var frame = Zstd(Data);
        File.WriteAllBytes(scratch.File("two.zst"), [.. frame, .. frame]);
        using (var stream = new ZstdFileStream(scratch.File("two.zst"), long.MaxValue))
        {
            Assert.Equal([.. Data, .. Data], ReadAll(stream));
        }
        File.WriteAllBytes(scratch.File("cut.zst"), frame[..^3]);
        using var cut = new ZstdFileStream(scratch.File("cut.zst"), long.MaxValue);
        var error = Assert.Throws<InvalidDataException>(() => ReadAll(cut));
        Assert.Contains("the zstd stream breaks off or is damaged", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_zero_byte_compressed_file_is_refused_as_truncated()
    {
        using var scratch = new ScratchFolder("zstd");
        File.WriteAllBytes(scratch.File("empty.jsonl.zst"), []);
        File.WriteAllBytes(scratch.File("empty.jsonl.xz"), []);
        Assert.Contains("0 bytes", Assert.Throws<InvalidDataException>(() => new ZstdFileStream(scratch.File("empty.jsonl.zst"), long.MaxValue)).Message, StringComparison.Ordinal);
        Assert.Contains("0 bytes", Assert.Throws<InvalidDataException>(() => new XzFileStream(scratch.File("empty.jsonl.xz"), long.MaxValue)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompressing_past_the_limit_fails_the_shard()
    {
        using var scratch = new ScratchFolder("zstd");
        File.WriteAllBytes(scratch.File("big.jsonl.zst"), Zstd(Data));
        using var stream = new ZstdFileStream(scratch.File("big.jsonl.zst"), Data.Length / 2);
        Assert.Throws<DecompressedSizeLimitException>(() => ReadAll(stream));
    }

    [Theory]
    [InlineData("a/part-1.jsonl.zst", "a/part-1", InputFormat.JsonLines, InputCompression.Zstd)]
    [InlineData("part.json.zst", "part", InputFormat.Json, InputCompression.Zstd)]
    [InlineData("part.ndjson.xz", "part", InputFormat.JsonLines, InputCompression.Xz)]
    [InlineData("PART.JSONL.XZ", "PART", InputFormat.JsonLines, InputCompression.Xz)]
    [InlineData("part.jsonl.gz", "part", InputFormat.JsonLines, InputCompression.Gzip)]
    public void Compressed_names_are_classified_and_lose_every_data_extension_in_output_names(string name, string baseName, InputFormat format, InputCompression compression)
    {
        using var scratch = new ScratchFolder("names");
        var path = scratch.File(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [1]);
        var input = ShardInput.FromFile(path, name);
        Assert.Equal((baseName, format, compression), (input.BaseName, input.Format, input.Compression));
    }

    [Theory]
    [InlineData("data.parquet.zst", "a compressed Parquet file")]
    [InlineData("data.csv.xz", ".xz of a .csv file")]
    [InlineData("data.jsonl.bz2", ".bz2 compression")]
    public void Names_riverbed_does_not_read_are_refused_with_the_reason(string name, string reason)
    {
        Assert.False(ShardInput.TryClassify(name, out _, out _));
        Assert.StartsWith(reason, ShardInput.UnsupportedReason(name), StringComparison.Ordinal);
    }
}
