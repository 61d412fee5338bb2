namespace Riverbed.Scoring;

/// <summary>
/// Converts UTF-16 offsets (what C#, JavaScript and the tokenizers count) to code-point offsets (what DuckDB's
/// <c>substring</c> and Python slicing count). They differ after every character outside the Basic Multilingual Plane
/// (emoji, 𝕏, rare CJK), which takes two UTF-16 units but one code point.
/// </summary>
public static class TextOffsets
{
    /// <summary>
    /// The code-point offset of UTF-16 offset <paramref name="utf16"/> in <paramref name="text"/>: the code points that
    /// start before it. An offset inside a surrogate pair maps to that pair's code point; offsets are clamped to the text.
    /// </summary>
    public static int CodePoint(string text, int utf16)
    {
        ArgumentNullException.ThrowIfNull(text);
        var end = Math.Clamp(utf16, 0, text.Length);
        var count = 0;
        for (var i = 0; i < end; i++)
        {
            // A low surrogate that completes a pair belongs to the code point its high surrogate started.
            if (!(char.IsLowSurrogate(text[i]) && i > 0 && char.IsHighSurrogate(text[i - 1])))
            {
                count++;
            }
        }
        if (end > 0 && end < text.Length && char.IsHighSurrogate(text[end - 1]) && char.IsLowSurrogate(text[end]))
        {
            // The offset splits a pair: the pair's code point started before it, but it is the one the offset is in.
            count--;
        }
        return count;
    }
}
