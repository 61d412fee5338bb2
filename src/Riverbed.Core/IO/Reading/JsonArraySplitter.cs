using System.Buffers;

namespace Riverbed.IO.Reading;

/// <summary>What is wrong with the framing of a JSON array element (its content is judged later, like a line's).</summary>
internal enum ElementProblem
{
    None,

    /// <summary>Nothing between two commas, or a trailing comma before ']'.</summary>
    Empty,

    /// <summary>The file ends inside the element.</summary>
    Truncated,

    /// <summary>The file ends after an element without the array's closing ']'.</summary>
    NotClosed,

    /// <summary>Something other than whitespace follows the closing ']'.</summary>
    TrailingData,
}

/// <summary>One element from <see cref="JsonArraySplitter"/>; the bytes are valid until the next call.</summary>
internal readonly ref struct ArrayElement
{
    public ArrayElement(ReadOnlySpan<byte> bytes, long line, long byteOffset, long length, bool tooLong, ElementProblem problem)
    {
        Bytes = bytes;
        Line = line;
        ByteOffset = byteOffset;
        Length = length;
        TooLong = tooLong;
        Problem = problem;
    }

    public ReadOnlySpan<byte> Bytes { get; }

    /// <summary>1-based line of the element's first byte.</summary>
    public long Line { get; }

    public long ByteOffset { get; }

    public long Length { get; }

    public bool TooLong { get; }

    public ElementProblem Problem { get; }
}

/// <summary>
/// Streams the elements of a top-level JSON array without parsing them: a small state machine tracks strings, escapes
/// and bracket nesting to find each element's bytes, which are then validated and parsed one by one like JSON Lines.
/// A malformed element therefore costs one reject, not the rest of the file; an element over the size limit is skipped
/// to its end keeping only its first bytes. A closing bracket of the wrong kind closes up to its matching opener, so a
/// missing ']' or '}' inside one element does not swallow the elements after it.
/// </summary>
internal sealed class JsonArraySplitter
{
    private const int TooLongHeadBytes = 64 * 1024;
    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"{}[],"u8);
    private static readonly SearchValues<byte> StringSpecial = SearchValues.Create("\"\\"u8);

    private readonly Stream _stream;
    private readonly int _maxElementBytes;
    private readonly int _maxBuffer;
    private byte[] _buffer;
    private int _pos;
    private int _end;
    private long _bufferOffset;
    private bool _endOfStream;
    private int _lineScan;
    private long _newlines;

    private bool _started;
    private bool _finished;
    private int _elementStart = -1;
    private bool _skipping;
    private byte[] _brackets = new byte[64];

    public JsonArraySplitter(Stream stream, int maxElementBytes, int bufferSize = 64 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxElementBytes, 1);
        _stream = stream;
        _maxElementBytes = maxElementBytes;
        _maxBuffer = (int)Math.Min(int.MaxValue - 64, (long)maxElementBytes + bufferSize + 1);
        _buffer = new byte[Math.Min(bufferSize, _maxBuffer)];
    }

    /// <summary>The next element (or framing problem), in file order; false once the array and the file have ended.</summary>
    public bool TryReadElement(out ArrayElement element)
    {
        element = default;
        if (_finished)
        {
            return false;
        }
        if (!_started)
        {
            SkipByteOrderMark();
            if (!SkipWhitespace() || _buffer[_pos] != (byte)'[')
            {
                throw new InvalidDataException("a JSON array must start with '['");
            }
            _pos++;
            _started = true;
            if (!SkipWhitespace())
            {
                element = AtEnd(ElementProblem.NotClosed);
                return true;
            }
            if (_buffer[_pos] == (byte)']')
            {
                _pos++;
                return AfterArray(out element);
            }
        }
        else
        {
            if (!SkipWhitespace())
            {
                element = AtEnd(ElementProblem.NotClosed);
                return true;
            }
            switch (_buffer[_pos])
            {
                case (byte)']':
                    _pos++;
                    return AfterArray(out element);
                case (byte)',':
                    _pos++;
                    break;
                default:
                    // A missing comma: the stray bytes start the next element, which then fails to parse.
                    break;
            }
        }
        element = ScanElement();
        return true;
    }

    private ArrayElement ScanElement()
    {
        if (!SkipWhitespace())
        {
            return AtEnd(ElementProblem.NotClosed);
        }
        var line = LineAt(_pos);
        var offset = _bufferOffset + _pos;
        if (_buffer[_pos] is (byte)',' or (byte)']')
        {
            return new ArrayElement([], line, offset, 0, tooLong: false, ElementProblem.Empty);
        }
        _elementStart = _pos;
        _skipping = false;
        byte[]? head = null;
        var depth = 0;
        var inString = false;
        var escaped = false;
        var problem = ElementProblem.None;
        while (true)
        {
            if (!_skipping && _pos - _elementStart > _maxElementBytes)
            {
                head = _buffer.AsSpan(_elementStart, Math.Min(TooLongHeadBytes, _maxElementBytes)).ToArray();
                _skipping = true;
            }
            if (_pos == _end && !Fill())
            {
                if (depth > 0 || inString)
                {
                    problem = ElementProblem.Truncated;
                    _finished = true;
                }
                break;
            }
            if (inString)
            {
                if (escaped)
                {
                    escaped = false;
                    _pos++;
                    continue;
                }
                var found = _buffer.AsSpan(_pos, _end - _pos).IndexOfAny(StringSpecial);
                if (found < 0)
                {
                    _pos = _end;
                    continue;
                }
                _pos += found;
                if (_buffer[_pos] == (byte)'\\')
                {
                    escaped = true;
                }
                else
                {
                    inString = false;
                }
                _pos++;
                continue;
            }
            var next = _buffer.AsSpan(_pos, _end - _pos).IndexOfAny(Structural);
            if (next < 0)
            {
                _pos = _end;
                continue;
            }
            _pos += next;
            var b = _buffer[_pos];
            if (depth == 0 && (b == (byte)',' || b == (byte)']'))
            {
                break;
            }
            switch (b)
            {
                case (byte)'"':
                    inString = true;
                    break;
                case (byte)'{' or (byte)'[':
                    Push(ref depth, b);
                    break;
                case (byte)'}' or (byte)']':
                    Close(ref depth, b == (byte)'}' ? (byte)'{' : (byte)'[');
                    break;
            }
            _pos++;
        }
        var endAbsolute = _bufferOffset + _pos;
        var length = endAbsolute - offset;
        ReadOnlySpan<byte> bytes;
        if (_skipping)
        {
            bytes = head;
        }
        else
        {
            var span = _buffer.AsSpan(_elementStart, _pos - _elementStart);
            bytes = span.TrimEnd(" \t\r\n"u8);
            length = bytes.Length;
        }
        _elementStart = -1;
        var tooLong = _skipping;
        _skipping = false;
        return new ArrayElement(bytes, line, offset, length, tooLong, problem);
    }

    private void Push(ref int depth, byte opener)
    {
        if (depth == _brackets.Length)
        {
            Array.Resize(ref _brackets, _brackets.Length * 2);
        }
        _brackets[depth++] = opener;
    }

    /// <summary>Closes up to the nearest matching opener; a closer with no opener at all is left for the parser to reject.</summary>
    private void Close(ref int depth, byte opener)
    {
        for (var level = depth - 1; level >= 0; level--)
        {
            if (_brackets[level] == opener)
            {
                depth = level;
                return;
            }
        }
    }

    private bool AfterArray(out ArrayElement element)
    {
        _finished = true;
        if (!SkipWhitespace())
        {
            element = default;
            return false;
        }
        var line = LineAt(_pos);
        var offset = _bufferOffset + _pos;
        var head = new List<byte>();
        while (true)
        {
            var take = Math.Min(_end - _pos, TooLongHeadBytes - head.Count);
            if (take > 0)
            {
                head.AddRange(_buffer.AsSpan(_pos, take));
            }
            _pos = _end;
            if (!Fill())
            {
                break;
            }
        }
        element = new ArrayElement(head.ToArray(), line, offset, _bufferOffset + _pos - offset, tooLong: false, ElementProblem.TrailingData);
        return true;
    }

    private ArrayElement AtEnd(ElementProblem problem)
    {
        _finished = true;
        return new ArrayElement([], LineAt(_pos), _bufferOffset + _pos, 0, tooLong: false, problem);
    }

    private void SkipByteOrderMark()
    {
        while (_end - _pos < 3 && !_endOfStream && Fill())
        {
        }
        if (_end - _pos >= 3 && _buffer[_pos] == 0xEF && _buffer[_pos + 1] == 0xBB && _buffer[_pos + 2] == 0xBF)
        {
            _pos += 3;
        }
    }

    /// <summary>Moves to the next non-whitespace byte; false at the end of the file.</summary>
    private bool SkipWhitespace()
    {
        while (true)
        {
            var rest = _buffer.AsSpan(_pos, _end - _pos);
            var next = rest.IndexOfAnyExcept(" \t\r\n"u8);
            if (next >= 0)
            {
                _pos += next;
                return true;
            }
            _pos = _end;
            if (!Fill())
            {
                return false;
            }
        }
    }

    private long LineAt(int position)
    {
        if (position > _lineScan)
        {
            _newlines += _buffer.AsSpan(_lineScan, position - _lineScan).Count((byte)'\n');
            _lineScan = position;
        }
        return _newlines + 1;
    }

    /// <summary>Reads more: keeps the current element (unless it is being skipped), grows up to the element limit.</summary>
    private bool Fill()
    {
        if (_endOfStream)
        {
            return false;
        }
        var keep = _elementStart >= 0 && !_skipping ? _elementStart : _pos;
        LineAt(keep);
        if (keep > 0)
        {
            Buffer.BlockCopy(_buffer, keep, _buffer, 0, _end - keep);
            _bufferOffset += keep;
            _end -= keep;
            _pos -= keep;
            _lineScan -= keep;
            if (_elementStart >= 0)
            {
                _elementStart = _skipping ? 0 : _elementStart - keep;
            }
        }
        if (_end == _buffer.Length)
        {
            var grown = (int)Math.Min((long)_buffer.Length * 2, _maxBuffer);
            if (grown <= _buffer.Length)
            {
                throw new InvalidOperationException("element buffer is full; an over-long element should have been skipped");
            }
            Array.Resize(ref _buffer, grown);
        }
        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
        {
            _endOfStream = true;
            return false;
        }
        _end += read;
        return true;
    }
}
