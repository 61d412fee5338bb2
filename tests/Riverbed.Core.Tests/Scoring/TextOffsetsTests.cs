using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

/// <summary>UTF-16 offsets to code points: what DuckDB's substring and Python slicing count.</summary>
public sealed class TextOffsetsTests
{
    [Theory]
    [InlineData("plain", 3, 3)]
    [InlineData("😀 ok", 0, 0)]
    [InlineData("😀 ok", 2, 1)]     // after the emoji: two UTF-16 units, one code point
    [InlineData("😀 ok", 1, 0)]     // inside the pair: the emoji's own code point
    [InlineData("a𝕏b😀c", 6, 4)]
    [InlineData("a𝕏b😀c", 7, 5)]
    [InlineData("é e\u0301", 4, 4)] // combining marks are code points of their own, as in UTF-16
    [InlineData("short", 99, 5)]
    public void Code_point_offsets_count_each_supplementary_character_once(string text, int utf16, int codePoint) =>
        Assert.Equal(codePoint, TextOffsets.CodePoint(text, utf16));

    [Fact]
    public void Code_point_offsets_slice_the_same_characters_as_utf16_offsets()
    {
        const string text = "Ask 😀 about 東京 and 𝕏: Paris is in France.";
        var start = text.IndexOf("Paris", StringComparison.Ordinal);
        var end = start + "Paris".Length;
        var codePoints = text.EnumerateRunes().Select(r => r.ToString()).ToArray();
        var (cpStart, cpEnd) = (TextOffsets.CodePoint(text, start), TextOffsets.CodePoint(text, end));
        Assert.Equal("Paris", string.Concat(codePoints[cpStart..cpEnd]));
        Assert.Equal(start - 2, cpStart);
    }
}
