using System.Buffers.Binary;
using System.IO.Compression;

namespace Riverbed.IO.Reading;

/// <summary>The decompressed data passed the configured limit (a likely decompression bomb).</summary>
internal sealed class DecompressedSizeLimitException : IOException
{
    public DecompressedSizeLimitException(long limit)
        : base($"it decompresses to more than {limit:N0} bytes (limit: {SettingNames.Of(Setting.MaxDecompressedBytes)})")
    {
    }
}

/// <summary>
/// Decompresses a gzip file and proves it was complete: .NET's GZipStream returns end-of-data at a cut-off stream, so
/// the decompressed length and CRC-32 are checked against the trailer (the last 8 bytes). A mismatch is reported as a
/// truncated or corrupt file, never as a clean end. Multi-member gzip (e.g. bgzip) cannot be verified this way and is
/// refused with the same message.
/// </summary>
internal sealed class VerifiedGzipStream : ForwardOnlyStream
{
    private readonly FileStream _file;
    private readonly GZipStream _gzip;
    private readonly long _limit;
    private readonly uint _expectedCrc;
    private readonly uint _expectedLength;
    private readonly bool _empty;
    private uint _crc;
    private long _produced;
    private bool _verified;

    public VerifiedGzipStream(string path, long limit)
    {
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        _limit = limit;
        if (_file.Length == 0)
        {
            // Even a gzip of nothing has a header and a trailer: zero bytes is a download or copy that never wrote, and
            // committing it as an empty shard would hide that.
            _file.Dispose();
            throw new InvalidDataException("the file is 0 bytes, so it is not gzip (a gzip of no data is still 20 bytes): was it cut off before anything was written?");
        }
        _empty = false;
        if (!_empty)
        {
            if (_file.Length < 18)
            {
                _file.Dispose();
                throw new InvalidDataException($"the file is {_file.Length} bytes, too short to be gzip (truncated?)");
            }
            Span<byte> trailer = stackalloc byte[8];
            _file.Seek(-8, SeekOrigin.End);
            _file.ReadExactly(trailer);
            _file.Seek(0, SeekOrigin.Begin);
            _expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            _expectedLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        }
        _gzip = new GZipStream(_file, CompressionMode.Decompress, leaveOpen: false);
    }

    public long Produced => _produced;

    protected override long ProducedBytes => _produced;

    public override int Read(Span<byte> buffer)
    {
        if (_empty)
        {
            return 0;
        }
        var read = _gzip.Read(buffer);
        if (read == 0)
        {
            Verify();
            return 0;
        }
        _produced += read;
        if (_produced > _limit)
        {
            throw new DecompressedSizeLimitException(_limit);
        }
        _crc = Crc32.Append(_crc, buffer[..read]);
        return read;
    }

    private void Verify()
    {
        if (_verified)
        {
            return;
        }
        _verified = true;
        if (_crc != _expectedCrc || (uint)_produced != _expectedLength)
        {
            throw new InvalidDataException(
                $"the gzip stream ends after {_produced:N0} decompressed bytes but its trailer does not match (CRC-32 " +
                $"{_crc:x8} vs {_expectedCrc:x8}, length {(uint)_produced} vs {_expectedLength}): the file is truncated or " +
                "corrupt, or it is a multi-member gzip (e.g. bgzip), which Riverbed cannot verify; recompress it with gzip");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gzip.Dispose();
            _file.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>A stream that replays a few already-read bytes before continuing with the rest (used to sniff layouts).</summary>
internal sealed class PrefixedStream : Stream
{
    private readonly byte[] _prefix;
    private readonly Stream _rest;
    private int _position;

    public PrefixedStream(byte[] prefix, Stream rest)
    {
        _prefix = prefix;
        _rest = rest;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position < _prefix.Length)
        {
            var take = Math.Min(buffer.Length, _prefix.Length - _position);
            _prefix.AsSpan(_position, take).CopyTo(buffer);
            _position += take;
            return take;
        }
        return _rest.Read(buffer);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _rest.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// The next <c>length</c> bytes of a stream (a work unit's byte range, the stream positioned at its start), then
/// <c>suffix</c>; ends there even when the file goes on.
/// </summary>
internal sealed class RangeStream : ForwardOnlyStream
{
    private readonly Stream _inner;
    private readonly byte[] _suffix;
    private long _left;
    private int _suffixRead;
    private long _produced;

    public RangeStream(Stream inner, long length, byte[] suffix)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _inner = inner;
        _left = length;
        _suffix = suffix;
    }

    protected override long ProducedBytes => _produced;

    public override int Read(Span<byte> buffer)
    {
        int read;
        if (_left > 0)
        {
            read = _inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            if (read == 0)
            {
                throw new EndOfStreamException($"the file ended {_left:N0} bytes before the end of its work unit: did it change while being read?");
            }
            _left -= read;
        }
        else
        {
            read = Math.Min(buffer.Length, _suffix.Length - _suffixRead);
            _suffix.AsSpan(_suffixRead, read).CopyTo(buffer);
            _suffixRead += read;
        }
        _produced += read;
        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
