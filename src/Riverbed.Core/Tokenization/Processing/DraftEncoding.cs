namespace Riverbed.Tokenization.Processing;

/// <summary>
/// An encoding being assembled (HF's Encoding without its overflowing list): parallel token arrays. Pooled per
/// thread; post-processors build new drafts by concatenation, exactly as HF builds new encodings.
/// </summary>
internal sealed class DraftEncoding
{
    public int Count;
    public int[] Ids = new int[64];
    public int[] TypeIds = new int[64];
    public string[] Tokens = new string[64];
    public int[] Starts = new int[64];
    public int[] Ends = new int[64];
    public int[] Words = new int[64];       // -1: none
    public int[] SequenceIds = new int[64]; // -1: none
    public int[] Special = new int[64];

    /// <summary>A window of a truncated sequence (the first one is the main encoding, the others overflow).</summary>
    public bool IsOverflow;

    public void Clear()
    {
        Count = 0;
        IsOverflow = false;
    }

    public void Ensure(int size)
    {
        if (size <= Ids.Length)
        {
            return;
        }
        var n = Math.Max(size, Ids.Length * 2);
        Array.Resize(ref Ids, n);
        Array.Resize(ref TypeIds, n);
        Array.Resize(ref Tokens, n);
        Array.Resize(ref Starts, n);
        Array.Resize(ref Ends, n);
        Array.Resize(ref Words, n);
        Array.Resize(ref SequenceIds, n);
        Array.Resize(ref Special, n);
    }

    public void Append(DraftEncoding other) => AppendRange(other, 0, other.Count);

    public void AppendRange(DraftEncoding other, int start, int end)
    {
        var n = end - start;
        Ensure(Count + n);
        Array.Copy(other.Ids, start, Ids, Count, n);
        Array.Copy(other.TypeIds, start, TypeIds, Count, n);
        Array.Copy(other.Tokens, start, Tokens, Count, n);
        Array.Copy(other.Starts, start, Starts, Count, n);
        Array.Copy(other.Ends, start, Ends, Count, n);
        Array.Copy(other.Words, start, Words, Count, n);
        Array.Copy(other.SequenceIds, start, SequenceIds, Count, n);
        Array.Copy(other.Special, start, Special, Count, n);
        Count += n;
    }

    /// <summary>Appends a token inserted by a post-processor ([CLS], &lt;/s&gt;...): offsets (0, 0), no word.</summary>
    public void AppendSpecial(int id, string token, int typeId)
    {
        Ensure(Count + 1);
        Ids[Count] = id;
        TypeIds[Count] = typeId;
        Tokens[Count] = token;
        Starts[Count] = 0;
        Ends[Count] = 0;
        Words[Count] = -1;
        SequenceIds[Count] = -1;
        Special[Count] = 1;
        Count++;
    }

    public void SetTypeIds(int typeId) => Array.Fill(TypeIds, typeId, 0, Count);

    public void SetSequenceId(int sequenceId) => Array.Fill(SequenceIds, sequenceId, 0, Count);

    /// <summary>
    /// HF's byte-level <c>process_offsets</c>: offsets stop covering the leading and trailing spaces of a token (a
    /// space being 'Ġ' or whitespace), except the single space a prefix-space pre-tokenizer added to the first token.
    /// HF counts in characters, so the offsets move by whole code points of the original text (a prefix space aligned
    /// to an emoji moves the end past both of its UTF-16 units).
    /// </summary>
    public void TrimOffsets(bool addPrefixSpace, ReadOnlySpan<char> first, ReadOnlySpan<char> second)
    {
        for (var i = 0; i < Count; i++)
        {
            var token = Tokens[i];
            var leading = 0;
            while (leading < token.Length && IsSpace(token[leading]))
            {
                leading++;
            }
            var trailing = 0;
            while (trailing < token.Length && IsSpace(token[token.Length - 1 - trailing]))
            {
                trailing++;
            }
            if (leading == 0 && trailing == 0)
            {
                continue;
            }
            var text = SequenceIds[i] == 1 ? second : first;
            if (leading > 0)
            {
                var isFirst = i == 0 || Starts[i] == 0;
                if (isFirst && addPrefixSpace && leading == 1)
                {
                    leading = 0;
                }
                var start = Starts[i];
                for (var n = 0; n < leading && start < Ends[i]; n++)
                {
                    start += start < text.Length ? Text.CodePoints.LengthAt(text, start) : 1;
                }
                Starts[i] = Math.Min(start, Ends[i]);
            }
            if (trailing > 0)
            {
                // HF: only when the end is at least `trailing` characters into the text.
                var end = Ends[i];
                var steps = 0;
                while (steps < trailing && end > 0)
                {
                    end -= end >= 2 && end <= text.Length && char.IsLowSurrogate(text[end - 1])
                        && char.IsHighSurrogate(text[end - 2]) ? 2 : 1;
                    steps++;
                }
                if (steps == trailing)
                {
                    Ends[i] = Math.Max(end, Starts[i]);
                }
            }
        }
    }

    // 'Ġ' (U+0120) is the byte-level space; all whitespace is in the BMP, so one unit is one character.
    private static bool IsSpace(char c) => c == '\u0120' || Unicode.CharacterClasses.IsWhitespace(c);
}

/// <summary>Per-thread pool of drafts, returned all at once when an encode call ends.</summary>
internal sealed class DraftPool
{
    private readonly List<DraftEncoding> _drafts = [];
    private int _used;

    public DraftEncoding Rent()
    {
        if (_used == _drafts.Count)
        {
            _drafts.Add(new DraftEncoding());
        }
        var draft = _drafts[_used++];
        draft.Clear();
        return draft;
    }

    public void ReturnAll() => _used = 0;
}
