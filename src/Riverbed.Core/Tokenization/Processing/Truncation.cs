namespace Riverbed.Tokenization.Processing;

/// <summary>
/// HF's truncation: which windows of each sequence's raw tokens survive (the first window is the encoding, the others
/// overflow). Works on lengths only; the caller slices the tokens.
/// </summary>
internal static class Truncation
{
    /// <summary>Windows of each sequence: [start, end) token ranges, main window first.</summary>
    public static (List<(int Start, int End)> First, List<(int Start, int End)>? Second) Plan(
        int firstLength, int? secondLength, TruncationOptions? options, int addedTokens, bool addSpecialTokens)
    {
        if (options is null)
        {
            return (Whole(firstLength), secondLength is { } n ? Whole(n) : null);
        }
        var maxLength = options.MaxLength;
        if (maxLength < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "TruncationOptions.MaxLength cannot be negative.");
        }
        if (addSpecialTokens && addedTokens > 0)
        {
            if (maxLength < addedTokens)
            {
                throw new TokenizationException(
                    $"Truncation to {maxLength} tokens leaves no room: the post-processor adds {addedTokens} special " +
                    "tokens. Use a larger MaxLength or encode without special tokens.");
            }
            maxLength -= addedTokens;
        }

        var stride = options.Stride;
        var direction = options.Direction;
        if (maxLength == 0)
        {
            return (Windows(firstLength, 0, stride, direction),
                secondLength is { } m ? Windows(m, 0, stride, direction) : null);
        }
        var total = firstLength + (secondLength ?? 0);
        if (total <= maxLength)
        {
            return (Whole(firstLength), secondLength is { } n ? Whole(n) : null);
        }
        var toRemove = total - maxLength;

        switch (options.Strategy)
        {
            case TruncationStrategy.LongestFirst when secondLength is { } second:
            {
                int n1 = firstLength, n2 = second;
                var swap = n1 > n2;
                if (swap)
                {
                    (n1, n2) = (n2, n1);
                }
                n2 = n1 > maxLength ? n1 : Math.Max(n1, maxLength - n1);
                if (n1 + n2 > maxLength)
                {
                    n1 = maxLength / 2;
                    n2 = n1 + (maxLength % 2);
                }
                if (swap)
                {
                    (n1, n2) = (n2, n1);
                }
                return (Windows(firstLength, n1, stride, direction), Windows(second, n2, stride, direction));
            }
            case TruncationStrategy.LongestFirst:
                return (Windows(firstLength, total - toRemove, stride, direction), null);
            case TruncationStrategy.OnlyFirst:
            case TruncationStrategy.OnlySecond:
            {
                var first = options.Strategy == TruncationStrategy.OnlyFirst;
                if (!first && secondLength is null)
                {
                    throw new TokenizationException(
                        "Truncation strategy OnlySecond needs a second sequence; this encode has only one.");
                }
                var targetLength = first ? firstLength : secondLength!.Value;
                if (targetLength <= toRemove)
                {
                    throw new TokenizationException(
                        $"Truncation to {options.MaxLength} tokens with strategy {options.Strategy} would have to remove " +
                        $"{toRemove} tokens from a sequence of {targetLength}. Use LongestFirst or a larger MaxLength.");
                }
                var windows = Windows(targetLength, targetLength - toRemove, stride, direction);
                return first
                    ? (windows, secondLength is { } n ? Whole(n) : null)
                    : (Whole(firstLength), windows);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Strategy, "Unknown truncation strategy.");
        }
    }

    private static List<(int Start, int End)> Whole(int length) => [(0, length)];

    // HF's Encoding::truncate: windows of maxLength tokens advancing by maxLength - stride, from the start (Right) or
    // from the end (Left, whose first window is the end of the text).
    private static List<(int Start, int End)> Windows(int length, int maxLength, int stride,
        TruncationDirection direction)
    {
        if (maxLength >= length)
        {
            return Whole(length);
        }
        if (maxLength == 0)
        {
            return [(0, 0), (0, length)];
        }
        if (stride >= maxLength)
        {
            throw new TokenizationException(
                $"Truncation stride {stride} must be smaller than the room left for a sequence ({maxLength} tokens, " +
                "MaxLength minus the special tokens).");
        }
        var step = maxLength - stride;
        var windows = new List<(int, int)>();
        if (direction == TruncationDirection.Right)
        {
            for (var start = 0; start < length; start += step)
            {
                var stop = Math.Min(start + maxLength, length);
                windows.Add((start, stop));
                if (stop == length)
                {
                    break;
                }
            }
        }
        else
        {
            for (var last = length - 1; last >= 0; last -= step)
            {
                var stop = last + 1;
                var start = Math.Max(0, stop - maxLength);
                windows.Add((start, stop));
                if (start == 0)
                {
                    break;
                }
            }
        }
        return windows;
    }
}
