namespace Riverbed.IO.Reading;

/// <summary>One line from <see cref="LineSplitter"/>; the bytes are valid until the next call.</summary>
internal readonly ref struct LineSlice
{
    public LineSlice(ReadOnlySpan<byte> bytes, long number, long byteOffset, long length, bool tooLong)
    {
        Bytes = bytes;
        Number = number;
        ByteOffset = byteOffset;
        Length = length;
        TooLong = tooLong;
    }

    /// <summary>The line without its terminator ("\n" or "\r\n"); for a too-long line, only its first bytes.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    /// <summary>1-based line number.</summary>
    public long Number { get; }

    /// <summary>Offset of the line's first byte in the stream.</summary>
    public long ByteOffset { get; }

    /// <summary>Full length in bytes without the terminator (larger than <see cref="Bytes"/> when too long).</summary>
    public long Length { get; }

    public bool TooLong { get; }
}

/// <summary>
/// Splits a byte stream into lines at '\n' without decoding anything, so a multi-byte character can never be torn by a
/// read boundary: lines are handed out only once they are complete, whatever sizes the stream's reads return. Memory is
/// bounded by the line limit: a longer line is skipped up to its end, keeping only its first bytes for the reject.
/// </summary>
internal sealed class LineSplitter
{
    private const int TooLongHeadBytes = 64 * 1024;

    private readonly Stream _stream;
    private readonly int _maxLineBytes;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private int _scanned;
    private long _bufferOffset;
    private long _lineNumber;
    private bool _endOfStream;

    public LineSplitter(Stream stream, int maxLineBytes, int bufferSize = 64 * 1024, long firstByteOffset = 0, long firstLine = 1)
    {
        // A work unit starts inside its file: offsets and line numbers continue from where it starts.
        _bufferOffset = firstByteOffset;
        _lineNumber = firstLine - 1;
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        _stream = stream;
        _maxLineBytes = maxLineBytes;
        _buffer = new byte[Math.Min(bufferSize, maxLineBytes + 1)];
    }

    /// <summary>Skips a UTF-8 byte order mark at the very start of the stream (an encoding marker, not data).</summary>
    public bool SkipLeadingByteOrderMark()
    {
        while (_end < 3 && !_endOfStream && _end < _buffer.Length)
        {
            Fill();
        }
        if (_end >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF)
        {
            _start = _scanned = 3;
            return true;
        }
        return false;
    }

    public bool TryReadLine(out LineSlice line)
    {
        while (true)
        {
            var newline = _buffer.AsSpan(_scanned, _end - _scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var end = _scanned + newline;
                line = Complete(end, end + 1);
                return true;
            }
            _scanned = _end;
            if (_end - _start > _maxLineBytes)
            {
                line = SkipTooLongLine();
                return true;
            }
            if (_endOfStream)
            {
                if (_start < _end)
                {
                    line = Complete(_end, _end);
                    return true;
                }
                line = default;
                return false;
            }
            Fill();
        }
    }

    private LineSlice Complete(int end, int next)
    {
        var content = end;
        if (content > _start && _buffer[content - 1] == (byte)'\r')
        {
            content--;
        }
        var slice = new LineSlice(_buffer.AsSpan(_start, content - _start), ++_lineNumber, _bufferOffset + _start, content - _start, tooLong: false);
        _start = _scanned = next;
        return slice;
    }

    /// <summary>Keeps the head of an over-long line and discards the rest of it up to its newline.</summary>
    private LineSlice SkipTooLongLine()
    {
        var offset = _bufferOffset + _start;
        var head = _buffer.AsSpan(_start, Math.Min(TooLongHeadBytes, _maxLineBytes)).ToArray();
        long length = _end - _start;
        var last = _buffer[_end - 1];
        _start = _scanned = _end;
        while (true)
        {
            if (_start == _end)
            {
                if (_endOfStream)
                {
                    break;
                }
                Fill();
                continue;
            }
            var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                if (newline > 0)
                {
                    last = _buffer[_start + newline - 1];
                }
                length += newline;
                _start = _scanned = _start + newline + 1;
                break;
            }
            length += _end - _start;
            last = _buffer[_end - 1];
            _start = _scanned = _end;
        }
        if (last == (byte)'\r')
        {
            length--;
        }
        return new LineSlice(head, ++_lineNumber, offset, length, tooLong: true);
    }

    /// <summary>Reads more bytes: compacts the pending line to the front, grows the buffer up to the line limit.</summary>
    private void Fill()
    {
        if (_start > 0)
        {
            var pending = _end - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
            _bufferOffset += _start;
            _scanned -= _start;
            _end = pending;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            // A full buffer of maxLineBytes + 1 always holds an over-long line, which the caller skips before reading more.
            var grown = (int)Math.Min((long)_buffer.Length * 2, (long)_maxLineBytes + 1);
            if (grown <= _buffer.Length)
            {
                throw new InvalidOperationException("line buffer is full; an over-long line should have been skipped");
            }
            Array.Resize(ref _buffer, grown);
        }
        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
        {
            _endOfStream = true;
        }
        _end += read;
    }
}
