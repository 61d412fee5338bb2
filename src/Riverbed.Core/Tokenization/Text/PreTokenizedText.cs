namespace Riverbed.Tokenization.Text;

/// <summary>A piece of one sequence: a word to tokenize, or an added token already matched.</summary>
internal struct Split
{
    /// <summary>Where the piece's characters start in <see cref="PreTokenizedText"/>'s buffer.</summary>
    public int Offset;

    /// <summary>How many UTF-16 units the piece has.</summary>
    public int Length;

    /// <summary>Where the piece's original text begins in the caller's string (HF's <c>original_shift</c>).</summary>
    public int OriginalStart;

    /// <summary>The added token matched here, or -1 for text still to process.</summary>
    public int TokenId;

    /// <summary>The added token's text as it appeared (with stripped spaces kept, as HF reports it).</summary>
    public string? TokenText;
}

/// <summary>
/// HF's PreTokenizedString for one sequence: the normalized characters of all pieces back to back, each unit
/// aligned to the caller's original string, and the list of pieces. Splitting only rewrites the list; normalizing
/// writes a new generation of characters. A scratch object, reused by one thread.
/// </summary>
internal sealed class PreTokenizedText
{
    private char[] _chars = new char[256];
    private int[] _starts = new int[256];
    private int[] _ends = new int[256];
    private char[] _nextChars = new char[256];
    private int[] _nextStarts = new int[256];
    private int[] _nextEnds = new int[256];
    private int _nextLength;
    private Split[] _splits = new Split[64];
    private Split[] _nextSplits = new Split[64];
    private int _nextSplitCount;
    private readonly NormalizedSlice _slice = new();

    public int SplitCount { get; private set; }

    public ReadOnlySpan<Split> Splits => _splits.AsSpan(0, SplitCount);

    public ReadOnlySpan<char> CharsOf(in Split split) => _chars.AsSpan(split.Offset, split.Length);

    public int StartOf(int index) => _starts[index];

    public int EndOf(int index) => _ends[index];

    /// <summary>
    /// Starts over with the caller's text as one piece. Lone surrogates become U+FFFD (aligned to the surrogate),
    /// so everything downstream sees well-formed text.
    /// </summary>
    public void Reset(ReadOnlySpan<char> text)
    {
        AlignedText.EnsureCapacity(ref _chars, ref _starts, ref _ends, text.Length, 0);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    _chars[i] = c;
                    _chars[i + 1] = text[i + 1];
                    _starts[i] = _starts[i + 1] = i;
                    _ends[i] = _ends[i + 1] = i + 2;
                    i++;
                    continue;
                }
                c = (char)CodePoints.Replacement;
            }
            _chars[i] = c;
            _starts[i] = i;
            _ends[i] = i + 1;
        }
        SplitCount = 0;
        if (text.Length > 0)
        {
            _splits[0] = new Split { Offset = 0, Length = text.Length, OriginalStart = 0, TokenId = -1 };
            SplitCount = 1;
        }
    }

    /// <summary>
    /// Re-slices every piece that is not an added token, as HF's second added-token pass does (it always runs): the
    /// piece's original start becomes where its first normalized character comes from (e.g. after stripped spaces).
    /// </summary>
    public void Reslice()
    {
        for (var i = 0; i < SplitCount; i++)
        {
            ref var split = ref _splits[i];
            if (split.TokenId < 0 && split.Length > 0)
            {
                split.OriginalStart = _starts[split.Offset];
            }
        }
    }

    /// <summary>Splits every piece that is not an added token; empty parts are dropped, as HF does.</summary>
    public void SplitEach<TSplitter>(TSplitter splitter)
        where TSplitter : ISplitter
    {
        _nextSplitCount = 0;
        var output = new SplitOutput(this);
        for (var i = 0; i < SplitCount; i++)
        {
            var split = _splits[i];
            if (split.TokenId >= 0)
            {
                AddNext(split);
                continue;
            }
            output.Begin(split);
            splitter.Split(_chars.AsSpan(split.Offset, split.Length), ref output);
        }
        (_splits, _nextSplits) = (_nextSplits, _splits);
        SplitCount = _nextSplitCount;
    }

    /// <summary>Normalizes every piece that is not an added token.</summary>
    public void NormalizeEach<TNormalizer>(TNormalizer normalizer)
        where TNormalizer : ISliceNormalizer
    {
        _nextLength = 0;
        _nextSplitCount = 0;
        for (var i = 0; i < SplitCount; i++)
        {
            var split = _splits[i];
            if (split.TokenId >= 0)
            {
                CarryOver(split);
                continue;
            }
            _slice.Load(_chars.AsSpan(split.Offset, split.Length), _starts.AsSpan(split.Offset, split.Length),
                _ends.AsSpan(split.Offset, split.Length), split.OriginalStart);
            normalizer.Normalize(_slice);
            if (_slice.Length == 0)
            {
                continue; // HF drops pieces that normalize to nothing.
            }
            var normalized = split;
            normalized.Length = _slice.Length;
            normalized.Offset = AppendNext(_slice.Chars, _slice.Starts, _slice.Ends);
            AddNext(normalized);
        }
        NextGeneration();
    }

    /// <summary>
    /// Maps every piece that is not an added token to GPT-2's byte alphabet, writing straight into the next
    /// generation: the same characters and alignments as <see cref="ByteLevelAlphabet.MapToBytes"/> through
    /// <see cref="NormalizeEach{TNormalizer}"/> (every byte of a character aligns to the whole character), without the
    /// round trip through a slice.
    /// </summary>
    public void MapEachToBytes()
    {
        _nextLength = 0;
        _nextSplitCount = 0;
        var byteToChar = ByteLevelAlphabet.ByteToChar;
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < SplitCount; i++)
        {
            var split = _splits[i];
            if (split.TokenId >= 0)
            {
                CarryOver(split);
                continue;
            }
            // At most 3 bytes per UTF-16 unit (a surrogate pair is 4 bytes for 2 units).
            AlignedText.EnsureCapacity(ref _nextChars, ref _nextStarts, ref _nextEnds, _nextLength + (split.Length * 3), _nextLength);
            var offset = _nextLength;
            var end = split.Offset + split.Length;
            for (var at = split.Offset; at < end;)
            {
                var c = _chars[at];
                var start = _starts[at];
                var stop = _ends[at];
                if (c < 0x80)
                {
                    _nextChars[_nextLength] = byteToChar[c];
                    _nextStarts[_nextLength] = start;
                    _nextEnds[_nextLength] = stop;
                    _nextLength++;
                    at++;
                    continue;
                }
                var position = at;
                var count = CodePoints.WriteUtf8(CodePoints.Read(_chars.AsSpan(0, end), ref position), bytes);
                for (var b = 0; b < count; b++)
                {
                    _nextChars[_nextLength] = byteToChar[bytes[b]];
                    _nextStarts[_nextLength] = start;
                    _nextEnds[_nextLength] = stop;
                    _nextLength++;
                }
                at = position;
            }
            var mapped = split;
            mapped.Offset = offset;
            mapped.Length = _nextLength - offset;
            AddNext(mapped);
        }
        NextGeneration();
    }

    // An added token's piece moves to the next generation unchanged.
    private void CarryOver(Split split)
    {
        split.Offset = AppendNext(_chars.AsSpan(split.Offset, split.Length), _starts.AsSpan(split.Offset, split.Length),
            _ends.AsSpan(split.Offset, split.Length));
        AddNext(split);
    }

    private void NextGeneration()
    {
        (_chars, _nextChars) = (_nextChars, _chars);
        (_starts, _nextStarts) = (_nextStarts, _starts);
        (_ends, _nextEnds) = (_nextEnds, _ends);
        (_splits, _nextSplits) = (_nextSplits, _splits);
        SplitCount = _nextSplitCount;
    }

    private int AppendNext(ReadOnlySpan<char> chars, ReadOnlySpan<int> starts, ReadOnlySpan<int> ends)
    {
        AlignedText.EnsureCapacity(ref _nextChars, ref _nextStarts, ref _nextEnds, _nextLength + chars.Length, _nextLength);
        var offset = _nextLength;
        chars.CopyTo(_nextChars.AsSpan(offset));
        starts.CopyTo(_nextStarts.AsSpan(offset));
        ends.CopyTo(_nextEnds.AsSpan(offset));
        _nextLength += chars.Length;
        return offset;
    }

    private void AddNext(in Split split)
    {
        if (_nextSplitCount == _nextSplits.Length)
        {
            Array.Resize(ref _nextSplits, _nextSplits.Length * 2);
        }
        _nextSplits[_nextSplitCount++] = split;
    }


    /// <summary>Receives the parts a splitter cuts one piece into (offsets relative to the piece).</summary>
    internal struct SplitOutput
    {
        private readonly PreTokenizedText _owner;
        private Split _current;

        public SplitOutput(PreTokenizedText owner)
        {
            _owner = owner;
            _current = default;
        }

        internal void Begin(in Split split) => _current = split;

        /// <summary>Keeps [start, end) of the current piece as a new piece (ignored when empty).</summary>
        public readonly void Add(int start, int end) => Add(start, end, -1, null);

        /// <summary>Marks [start, end) of the current piece as a matched added token.</summary>
        public readonly void Add(int start, int end, int tokenId, string? tokenText)
        {
            if (end <= start)
            {
                return;
            }
            var offset = _current.Offset + start;
            _owner.AddNext(new Split
            {
                Offset = offset,
                Length = end - start,
                OriginalStart = _owner._starts[offset],
                TokenId = tokenId,
                TokenText = tokenText,
            });
        }
    }
}

/// <summary>Cuts one piece into parts (pre-tokenizers, added-token matching).</summary>
internal interface ISplitter
{
    void Split(ReadOnlySpan<char> text, ref PreTokenizedText.SplitOutput output);
}

/// <summary>Rewrites one piece in place (normalizers, the character-mapping half of pre-tokenizers).</summary>
internal interface ISliceNormalizer
{
    void Normalize(NormalizedSlice slice);
}
