using System.Runtime.CompilerServices;

namespace Riverbed.Tokenization.Text;

/// <summary>Walking UTF-16 text by Unicode scalar values.</summary>
internal static class CodePoints
{
    /// <summary>U+FFFD, what a lone surrogate is read as (the only defined UTF-8 rendering of one).</summary>
    public const int Replacement = 0xFFFD;

    /// <summary>Reads the scalar at <paramref name="index"/> and advances past it; a lone surrogate reads as U+FFFD.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Read(ReadOnlySpan<char> text, ref int index)
    {
        var c = text[index++];
        if (!char.IsSurrogate(c))
        {
            return c;
        }
        if (char.IsHighSurrogate(c) && index < text.Length && char.IsLowSurrogate(text[index]))
        {
            return char.ConvertToUtf32(c, text[index++]);
        }
        return Replacement;
    }

    /// <summary>The number of UTF-16 units of the scalar starting at <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LengthAt(ReadOnlySpan<char> text, int index) =>
        char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]) ? 2 : 1;

    /// <summary>The number of scalars in the text.</summary>
    public static int Count(ReadOnlySpan<char> text)
    {
        var count = 0;
        for (var i = 0; i < text.Length; i += LengthAt(text, i))
        {
            count++;
        }
        return count;
    }

    /// <summary>The number of UTF-8 bytes of a scalar.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Utf8Length(int cp) => cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;

    /// <summary>Writes the UTF-8 bytes of a scalar; returns how many.</summary>
    public static int WriteUtf8(int cp, Span<byte> bytes)
    {
        if (cp < 0x80)
        {
            bytes[0] = (byte)cp;
            return 1;
        }
        if (cp < 0x800)
        {
            bytes[0] = (byte)(0xC0 | (cp >> 6));
            bytes[1] = (byte)(0x80 | (cp & 0x3F));
            return 2;
        }
        if (cp < 0x10000)
        {
            bytes[0] = (byte)(0xE0 | (cp >> 12));
            bytes[1] = (byte)(0x80 | ((cp >> 6) & 0x3F));
            bytes[2] = (byte)(0x80 | (cp & 0x3F));
            return 3;
        }
        bytes[0] = (byte)(0xF0 | (cp >> 18));
        bytes[1] = (byte)(0x80 | ((cp >> 12) & 0x3F));
        bytes[2] = (byte)(0x80 | ((cp >> 6) & 0x3F));
        bytes[3] = (byte)(0x80 | (cp & 0x3F));
        return 4;
    }
}
