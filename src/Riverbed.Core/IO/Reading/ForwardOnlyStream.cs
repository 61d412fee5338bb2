namespace Riverbed.IO.Reading;

/// <summary>
/// What every decoding input stream shares (gzip, zstd, xz): read forward only, never seek or write, and report as
/// its position the decompressed bytes produced so far. Subclasses implement the one read that does the work.
/// </summary>
internal abstract class ForwardOnlyStream : Stream
{
    /// <summary>Decompressed bytes produced so far.</summary>
    protected abstract long ProducedBytes { get; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => ProducedBytes;
        set => throw new NotSupportedException();
    }

    public abstract override int Read(Span<byte> buffer);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
