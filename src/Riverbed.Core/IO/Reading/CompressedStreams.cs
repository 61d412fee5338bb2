using SharpCompress.Compressors.Xz;
using ZstdSharp;

namespace Riverbed.IO.Reading;

/// <summary>
/// A decompressing read stream over a file with Riverbed's guarantees: the decompressed size is limited
/// (--max-decompressed-bytes), and every way a decoder can fail on bad data (its own exception types, an
/// end-of-stream error, an argument error from a cut-off header) becomes an <see cref="InvalidDataException"/>, so a
/// corrupt or truncated file always fails its shard with a message, never ends it early and quietly.
/// </summary>
internal abstract class CheckedDecompressionStream : ForwardOnlyStream
{
    private readonly long _limit;
    private long _produced;

    protected CheckedDecompressionStream(string path, long limit, string format)
    {
        Compressed = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        _limit = limit;
        Format = format;
        if (Compressed.Length == 0)
        {
            Compressed.Dispose();
            // Unlike an empty text file, a zero-byte compressed file is not a valid stream of anything: a cut-off copy.
            throw new InvalidDataException($"the file is empty (0 bytes), which is not a valid {format} stream (truncated?)");
        }
    }

    /// <summary>The compressed file, positioned where the decoder has read to.</summary>
    protected FileStream Compressed { get; }

    /// <summary>"zstd" or "xz", for messages.</summary>
    protected string Format { get; }

    protected override long ProducedBytes => _produced;

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }
        int read;
        try
        {
            read = Decode(buffer);
        }
        catch (Exception error) when (IsBadData(error))
        {
            var reason = error.Message.TrimEnd('.');
            throw new InvalidDataException(
                $"the {Format} stream breaks off or is damaged after {_produced:N0} decompressed bytes " +
                $"({WhereInFile()}): {reason}", error);
        }
        _produced += read;
        if (_produced > _limit)
        {
            throw new DecompressedSizeLimitException(_limit);
        }
        return read;
    }

    /// <summary>Decompresses into <paramref name="buffer"/>; 0 only at the verified end of all data.</summary>
    protected abstract int Decode(Span<byte> buffer);

    /// <summary>
    /// Errors that mean the compressed bytes are bad. A failure to read the file itself (an I/O error of the disk or
    /// network file system) is not one of them and passes as it is; a decoder's "end of stream" is.
    /// </summary>
    private static bool IsBadData(Exception error) => error switch
    {
        DecompressedSizeLimitException or OperationCanceledException or OutOfMemoryException => false,
        EndOfStreamException or InvalidDataException => true,
        IOException => false,
        _ => true,
    };

    private string WhereInFile()
    {
        try
        {
            return $"compressed byte {Compressed.Position:N0} of {Compressed.Length:N0}";
        }
        catch (ObjectDisposedException)
        {
            return "the compressed file was closed by the decoder";
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Compressed.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// A .zst file: one or more Zstandard frames, decoded by ZstdSharp as a stream. ZstdSharp reports a file that ends
/// inside a frame ("premature end of stream") and data after the last frame that is not a frame; a frame written with
/// a content checksum (the zstd tool's default) is verified against it.
/// </summary>
internal sealed class ZstdFileStream : CheckedDecompressionStream
{
    private readonly DecompressionStream _decoder;

    public ZstdFileStream(string path, long limit)
        : base(path, limit, "zstd")
    {
        _decoder = new DecompressionStream(Compressed, checkEndOfStream: true, leaveOpen: true);
    }

    protected override int Decode(Span<byte> buffer) => _decoder.Read(buffer);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _decoder.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// A .xz file: one or more xz streams (concatenated, as `xz` writes them for appended data), each decoded by
/// SharpCompress with its blocks' checks verified. SharpCompress stops after the first stream, so the rest of the file
/// is read here: stream padding (zero bytes) is skipped, another stream is decoded, and any other trailing bytes fail
/// the shard rather than being dropped.
/// </summary>
internal sealed class XzFileStream : CheckedDecompressionStream
{
    private static readonly byte[] Magic = [0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00];

    private XZStream? _decoder;

    public XzFileStream(string path, long limit)
        : base(path, limit, "xz")
    {
        _decoder = new XZStream(Compressed);
    }

    protected override int Decode(Span<byte> buffer)
    {
        while (_decoder is not null)
        {
            var read = _decoder.Read(buffer);
            if (read > 0)
            {
                return read;
            }
            // The finished decoder is dropped, not disposed: it holds only managed buffers, and disposing a SharpCompress
            // stream may close the file the next stream is read from.
            _decoder = NextStream();
        }
        return 0;
    }

    /// <summary>After a stream's footer: null when only padding is left, else the decoder of the stream that follows.</summary>
    private XZStream? NextStream()
    {
        var start = Compressed.Position;
        int next;
        while ((next = Compressed.ReadByte()) == 0)
        {
        }
        if (next < 0)
        {
            return (Compressed.Position - start) % 4 == 0
                ? null
                : throw new InvalidDataException($"the stream padding at the end ({Compressed.Position - start} zero bytes) is not a multiple of 4 bytes");
        }
        var at = Compressed.Position - 1;
        Span<byte> magic = stackalloc byte[Magic.Length];
        magic[0] = (byte)next;
        var got = 1 + Compressed.ReadAtLeast(magic[1..], magic.Length - 1, throwOnEndOfStream: false);
        if (got < Magic.Length || !magic.SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{Compressed.Length - at:N0} bytes after the end of the xz stream (at byte {at:N0}) are not another xz stream");
        }
        Compressed.Position = at;
        return new XZStream(Compressed);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _decoder?.Dispose();
        }
        base.Dispose(disposing);
    }
}
