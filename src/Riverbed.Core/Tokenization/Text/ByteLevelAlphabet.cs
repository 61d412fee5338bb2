namespace Riverbed.Tokenization.Text;

/// <summary>
/// GPT-2's byte-to-character mapping: printable Latin-1 bytes stand for themselves, the other 68 bytes (controls, space,
/// DEL, NBSP, soft hyphen...) are shifted to U+0100..U+0143, so every byte is a visible character in the vocabulary.
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>The character standing for each byte.</summary>
    public static readonly char[] ByteToChar = BuildByteToChar();

    /// <summary>The byte each alphabet character stands for, or -1 (indexed by character, up to U+0143).</summary>
    public static readonly short[] CharToByte = BuildCharToByte();

    public static bool TryGetByte(char c, out byte value)
    {
        if (c < CharToByte.Length && CharToByte[c] >= 0)
        {
            value = (byte)CharToByte[c];
            return true;
        }
        value = 0;
        return false;
    }

    /// <summary>
    /// Replaces every character by the alphabet characters of its UTF-8 bytes: the first byte takes the character's
    /// place, the others are insertions, so all of them align to the whole original character.
    /// </summary>
    public static void MapToBytes(NormalizedSlice slice)
    {
        var chars = slice.Chars;
        if (chars.Length == 0)
        {
            return;
        }
        var writer = slice.BeginTransform();
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < chars.Length;)
        {
            var cp = CodePoints.Read(chars, ref i);
            var count = CodePoints.WriteUtf8(cp, bytes);
            for (var b = 0; b < count; b++)
            {
                writer.Emit(ByteToChar[bytes[b]], b == 0 ? 0 : 1);
            }
        }
        slice.Commit(ref writer);
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var shifted = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)(256 + shifted++);
        }
        return map;
    }

    private static short[] BuildCharToByte()
    {
        var map = new short[0x144];
        Array.Fill(map, (short)-1);
        var byteToChar = BuildByteToChar();
        for (var b = 0; b < 256; b++)
        {
            map[byteToChar[b]] = (short)b;
        }
        return map;
    }
}
