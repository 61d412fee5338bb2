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

    /// <summary>The file ends inside a string of the element (<see cref="ArrayElement.StringStart"/> says where it opened).</summary>
    UnclosedString,

    /// <summary>The file ends after an element without the array's closing ']'.</summary>
    NotClosed,

    /// <summary>Something other than whitespace follows the closing ']'.</summary>
    TrailingData,
}

/// <summary>One element from <see cref="JsonArraySplitter"/>; the bytes are valid until the next call.</summary>
internal readonly ref struct ArrayElement
{
    public ArrayElement(ReadOnlySpan<byte> bytes, long line, long byteOffset, long length, bool tooLong, ElementProblem problem, long stringStart = -1)
    {
        StringStart = stringStart;
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

    /// <summary>For <see cref="ElementProblem.UnclosedString"/>: the byte offset of the string's opening quote.</summary>
    public long StringStart { get; }
}

/// <summary>
/// Streams the elements of a top-level JSON array without parsing them: a small state machine tracks strings, escapes
/// and bracket nesting to find each element's bytes, which are then validated and parsed one by one like JSON Lines.
/// A malformed element therefore costs one reject, not the rest of the file; an element over the size limit is skipped
/// to its end keeping only its first bytes. A closing bracket of the wrong kind closes up to its matching opener, so a
/// missing ']' or '}' inside one element does not swallow the elements after it; a closer with no opener at all in the
/// element marks it broken and ends its nesting, so it ends at the next comma (a stray ']' there is part of the broken
/// element, not the array's end, unless only whitespace follows it). A raw newline cannot be inside a JSON string, so
/// it ends an unclosed string (the element is broken); after that, a line that starts with '{' or '[' at the element's
/// top level starts the next element. A broken element costs one reject, and recovery resumes at the next element.
/// </summary>
internal sealed class JsonArraySplitter
{
    private const int TooLongHeadBytes = 64 * 1024;
    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"{}[],\n"u8);
    private static readonly SearchValues<byte> StringSpecial = SearchValues.Create("\"\\\n"u8);

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
        // Recovery state (absolute offsets): where the open string began, the last stray ']' at depth 0 of a broken
        // element, and where the current line's content began after a newline.
        var stringStart = -1L;
        var broken = false;
        var stringBroken = false;
        var strayCloser = -1L;
        var lineStart = -1L;
        while (true)
        {
            if (!_skipping && _pos - _elementStart > _maxElementBytes)
            {
                head = _buffer.AsSpan(_elementStart, Math.Min(TooLongHeadBytes, _maxElementBytes)).ToArray();
                _skipping = true;
            }
            if (_pos == _end && !Fill())
            {
                if (inString)
                {
                    problem = ElementProblem.UnclosedString;
                    _finished = true;
                }
                else if (broken && strayCloser >= 0 && !_skipping
                    && _buffer.AsSpan((int)(strayCloser + 1 - _bufferOffset), (int)(_bufferOffset + _pos - strayCloser - 1)).IndexOfAnyExcept(" \t\r\n"u8) < 0)
                {
                    // The stray ']' was the array's end after all: the broken element ends before it.
                    _pos = (int)(strayCloser - _bufferOffset);
                    _finished = true;
                }
                else if (depth > 0)
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
                    if (_buffer[_pos] == (byte)'\n')
                    {
                        // A string cannot span lines: it was left unclosed. The element is broken; reading resumes here.
                        broken = true;
                        stringBroken = true;
                        lineStart = _bufferOffset + _pos + 1;
                    }
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
            if (b == (byte)'\n')
            {
                lineStart = _bufferOffset + _pos + 1;
                _pos++;
                continue;
            }
            if (stringBroken && !_skipping && depth <= 1 && b is (byte)'{' or (byte)'[' && lineStart >= 0
                && _buffer.AsSpan((int)(lineStart - _bufferOffset), (int)(_bufferOffset + _pos - lineStart)).IndexOfAnyExcept(" \t\r"u8) < 0)
            {
                // After an unclosed string, a line opening a record at the top level is the next element.
                break;
            }
            lineStart = -1;
            if (depth == 0 && b == (byte)',')
            {
                break;
            }
            if (depth == 0 && b == (byte)']')
            {
                if (!broken)
                {
                    break;
                }
                // In a broken element a ']' at depth 0 is stray unless nothing but whitespace follows (checked at the end).
                strayCloser = _bufferOffset + _pos;
                _pos++;
                continue;
            }
            switch (b)
            {
                case (byte)'"':
                    inString = true;
                    stringStart = _bufferOffset + _pos;
                    break;
                case (byte)'{' or (byte)'[':
                    Push(ref depth, b);
                    break;
                case (byte)'}' or (byte)']':
                    if (!Close(ref depth, b == (byte)'}' ? (byte)'{' : (byte)'['))
                    {
                        broken = true;
                    }
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
        return new ArrayElement(bytes, line, offset, length, tooLong, problem, problem == ElementProblem.UnclosedString ? stringStart : -1);
    }

    private void Push(ref int depth, byte opener)
    {
        if (depth == _brackets.Length)
        {
            Array.Resize(ref _brackets, _brackets.Length * 2);
        }
        _brackets[depth++] = opener;
    }

    /// <summary>
    /// Closes up to the nearest matching opener (false when it skipped other openers: a mismatch). A closer with no
    /// opener at all ends the element's nesting: its record cannot be repaired, and waiting for an opener that never
    /// came would swallow every later element.
    /// </summary>
    private bool Close(ref int depth, byte opener)
    {
        for (var level = depth - 1; level >= 0; level--)
        {
            if (_brackets[level] == opener)
            {
                var matched = level == depth - 1;
                depth = level;
                return matched;
            }
        }
        depth = 0;
        return false;
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
