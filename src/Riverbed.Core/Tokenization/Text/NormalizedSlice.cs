using System.Runtime.CompilerServices;

namespace Riverbed.Tokenization.Text;

/// <summary>
/// One piece of text being normalized: its current characters and, for every UTF-16 unit, the range of the caller's
/// original string it came from (absolute UTF-16 offsets). This is HF's NormalizedString with UTF-16 units where HF
/// has UTF-8 bytes; every unit of one character always shares one alignment, so offsets agree exactly.
/// A scratch object: reused across calls by one thread, never shared.
/// </summary>
internal sealed class NormalizedSlice
{
    private char[] _chars = new char[64];
    private int[] _starts = new int[64];
    private int[] _ends = new int[64];
    private char[] _nextChars = new char[64];
    private int[] _nextStarts = new int[64];
    private int[] _nextEnds = new int[64];

    public int Length { get; private set; }

    /// <summary>Where this piece's original text begins (HF's <c>original_shift</c>).</summary>
    public int OriginalStart { get; private set; }

    public ReadOnlySpan<char> Chars => _chars.AsSpan(0, Length);

    /// <summary>
    /// The characters, writable in place: a change that replaces each character by one of the same UTF-16 length
    /// keeps every alignment, which is exactly what a transform with all changes 0 would produce, without the copy.
    /// </summary>
    public Span<char> MutableChars => _chars.AsSpan(0, Length);

    public ReadOnlySpan<int> Starts => _starts.AsSpan(0, Length);

    public ReadOnlySpan<int> Ends => _ends.AsSpan(0, Length);

    public void Load(ReadOnlySpan<char> chars, ReadOnlySpan<int> starts, ReadOnlySpan<int> ends, int originalStart)
    {
        AlignedText.EnsureCapacity(ref _chars, ref _starts, ref _ends, chars.Length, 0);
        chars.CopyTo(_chars);
        starts.CopyTo(_starts);
        ends.CopyTo(_ends);
        Length = chars.Length;
        OriginalStart = originalStart;
    }

    /// <summary>Starts a transformation of the whole piece; <see cref="Commit"/> makes the result current.</summary>
    public TransformWriter BeginTransform() => new(this);

    public void Commit(ref TransformWriter writer)
    {
        (_chars, _nextChars) = (_nextChars, _chars);
        (_starts, _nextStarts) = (_nextStarts, _starts);
        (_ends, _nextEnds) = (_nextEnds, _ends);
        Length = writer.Written;
    }

    /// <summary>
    /// Writes the next version of a <see cref="NormalizedSlice"/> following HF's <c>transform</c> contract: each
    /// emitted character carries a change, 0 = it replaces the next source character (and takes its alignment),
    /// +1 = it is inserted (and shares the alignment of the source character before it), -n = it replaces the next
    /// source character and the n after it are removed.
    /// </summary>
    internal ref struct TransformWriter
    {
        private readonly NormalizedSlice _slice;
        private int _source;

        public TransformWriter(NormalizedSlice slice)
        {
            _slice = slice;
            _source = 0;
            Written = 0;
        }

        public int Written { get; private set; }

        /// <summary>Drops source characters at the very beginning (HF's <c>initial_offset</c>).</summary>
        public void Skip(int characters)
        {
            for (var i = 0; i < characters; i++)
            {
                Consume();
            }
        }

        /// <summary>Emits a code point with its change (see the type's summary).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Emit(int codePoint, int change)
        {
            var slice = _slice;
            int start, end;
            if (change > 0)
            {
                // Inserted: share the alignment of the previous source unit; at the very start HF uses (0, 0)
                // relative to the piece, which is the piece's own original start.
                if (_source < 1)
                {
                    start = end = slice.OriginalStart;
                }
                else
                {
                    start = slice._starts[_source - 1];
                    end = slice._ends[_source - 1];
                }
            }
            else
            {
                var at = Math.Min(_source, slice.Length - 1);
                if (at < 0)
                {
                    start = end = slice.OriginalStart;
                }
                else
                {
                    start = slice._starts[at];
                    end = slice._ends[at];
                }
                Consume();
                for (var i = change; i < 0; i++)
                {
                    Consume();
                }
            }
            Append(codePoint, start, end);
        }

        /// <summary>Copies the next source character unchanged (change 0, fast).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Keep()
        {
            var slice = _slice;
            var units = _source + 1 < slice.Length && char.IsHighSurrogate(slice._chars[_source])
                && char.IsLowSurrogate(slice._chars[_source + 1]) ? 2 : 1;
            slice.EnsureNextCapacity(Written + units, Written);
            for (var i = 0; i < units; i++)
            {
                slice._nextChars[Written] = slice._chars[_source];
                slice._nextStarts[Written] = slice._starts[_source];
                slice._nextEnds[Written] = slice._ends[_source];
                Written++;
                _source++;
            }
        }

        /// <summary>Writes a code point with an explicit alignment (for normalizers that compute their own).</summary>
        public void Append(int codePoint, int start, int end)
        {
            var slice = _slice;
            slice.EnsureNextCapacity(Written + 2, Written);
            if (codePoint < 0x10000)
            {
                slice._nextChars[Written] = (char)codePoint;
                slice._nextStarts[Written] = start;
                slice._nextEnds[Written] = end;
                Written++;
            }
            else
            {
                var v = codePoint - 0x10000;
                slice._nextChars[Written] = (char)(0xD800 + (v >> 10));
                slice._nextChars[Written + 1] = (char)(0xDC00 + (v & 0x3FF));
                slice._nextStarts[Written] = slice._nextStarts[Written + 1] = start;
                slice._nextEnds[Written] = slice._nextEnds[Written + 1] = end;
                Written += 2;
            }
        }

        private void Consume()
        {
            var slice = _slice;
            if (_source >= slice.Length)
            {
                return;
            }
            _source += _source + 1 < slice.Length && char.IsHighSurrogate(slice._chars[_source])
                && char.IsLowSurrogate(slice._chars[_source + 1]) ? 2 : 1;
        }
    }

    private void EnsureNextCapacity(int needed, int keep)
    {
        if (needed > _nextChars.Length)
        {
            AlignedText.EnsureCapacity(ref _nextChars, ref _nextStarts, ref _nextEnds, needed, keep);
        }
    }
}
