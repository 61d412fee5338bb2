using Riverbed.Tokenization.Text;

namespace Riverbed.Tokenization.PreTokenizers;

/// <summary>What a split does with the delimiters it finds (HF's SplitDelimiterBehavior).</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>
/// The pieces a pattern cuts a text into: consecutive [start, end) ranges covering it, each flagged as a match or
/// not. Applying a <see cref="SplitBehavior"/> to them gives the parts, exactly as HF's NormalizedString::split.
/// </summary>
internal sealed class PatternPieces
{
    [ThreadStatic]
    private static PatternPieces? t_instance;

    private (int Start, int End, bool IsMatch)[] _pieces = new (int, int, bool)[64];
    private (int Start, int End)[] _merged = new (int, int)[64];

    public int Count { get; private set; }

    /// <summary>A per-thread instance (splitters never nest).</summary>
    public static PatternPieces Rent()
    {
        var pieces = t_instance ??= new PatternPieces();
        pieces.Count = 0;
        return pieces;
    }

    public void Add(int start, int end, bool isMatch)
    {
        if (Count == _pieces.Length)
        {
            Array.Resize(ref _pieces, Count * 2);
        }
        _pieces[Count++] = (start, end, isMatch);
    }

    /// <summary>Pieces from a character predicate: each matching character alone, runs of the others together.</summary>
    public void FromPredicate(ReadOnlySpan<char> text, Func<int, bool> isDelimiter)
    {
        var runStart = 0;
        for (var i = 0; i < text.Length;)
        {
            var start = i;
            var cp = CodePoints.Read(text, ref i);
            if (isDelimiter(cp))
            {
                if (runStart < start)
                {
                    Add(runStart, start, false);
                }
                Add(start, i, true);
                runStart = i;
            }
        }
        if (runStart < text.Length)
        {
            Add(runStart, text.Length, false);
        }
    }

    /// <summary>Pieces from a list of matches (gaps become non-matches).</summary>
    public void FromMatches(List<(int Start, int End)> matches, int length, bool invert)
    {
        var previous = 0;
        foreach (var (start, end) in matches)
        {
            if (previous != start)
            {
                Add(previous, start, invert);
            }
            Add(start, end, !invert);
            previous = end;
        }
        if (previous != length)
        {
            Add(previous, length, invert);
        }
    }

    /// <summary>Applies the behavior and hands every resulting part to <paramref name="output"/>.</summary>
    public void Emit(SplitBehavior behavior, ref PreTokenizedText.SplitOutput output)
    {
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                for (var i = 0; i < Count; i++)
                {
                    output.Add(_pieces[i].Start, _pieces[i].End);
                }
                break;
            case SplitBehavior.Removed:
                for (var i = 0; i < Count; i++)
                {
                    if (!_pieces[i].IsMatch)
                    {
                        output.Add(_pieces[i].Start, _pieces[i].End);
                    }
                }
                break;
            case SplitBehavior.Contiguous:
            case SplitBehavior.MergedWithPrevious:
                EmitForward(behavior == SplitBehavior.Contiguous, ref output);
                break;
            case SplitBehavior.MergedWithNext:
                EmitMergedWithNext(ref output);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(behavior));
        }
    }

    private void EmitForward(bool contiguous, ref PreTokenizedText.SplitOutput output)
    {
        var previousMatch = false;
        var haveCurrent = false;
        int currentStart = 0, currentEnd = 0;
        for (var i = 0; i < Count; i++)
        {
            var (start, end, isMatch) = _pieces[i];
            var extend = contiguous ? isMatch == previousMatch : isMatch && !previousMatch;
            if (extend && haveCurrent)
            {
                currentEnd = end;
            }
            else
            {
                if (haveCurrent)
                {
                    output.Add(currentStart, currentEnd);
                }
                currentStart = start;
                currentEnd = end;
                haveCurrent = true;
            }
            previousMatch = isMatch;
        }
        if (haveCurrent)
        {
            output.Add(currentStart, currentEnd);
        }
    }

    private void EmitMergedWithNext(ref PreTokenizedText.SplitOutput output)
    {
        // HF folds from the end: a match joins the part after it unless that part is itself a match.
        if (_merged.Length < Count)
        {
            _merged = new (int, int)[_pieces.Length];
        }
        var merged = _merged;
        var count = 0;
        var previousMatch = false;
        for (var i = Count - 1; i >= 0; i--)
        {
            var (start, end, isMatch) = _pieces[i];
            if (isMatch && !previousMatch && count > 0)
            {
                merged[count - 1].Start = start;
            }
            else
            {
                merged[count++] = (start, end);
            }
            previousMatch = isMatch;
        }
        for (var i = count - 1; i >= 0; i--)
        {
            output.Add(merged[i].Start, merged[i].End);
        }
    }
}
