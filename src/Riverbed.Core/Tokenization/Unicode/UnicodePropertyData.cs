using System.Buffers.Binary;
using System.Collections.Frozen;

namespace Riverbed.Tokenization.Unicode;

/// <summary>
/// Character properties pinned to the Unicode versions HF tokenizers' dependencies use, decoded once from the
/// generated blob: Unicode 8.0 categories (the unicode_categories crate behind BERT's tests) and Unicode 17.0 numbers
/// and lowercase mappings (Rust's std). Pinned versions keep ids stable whatever Unicode version the .NET runtime has.
/// </summary>
internal static partial class UnicodePropertyData
{
    static UnicodePropertyData()
    {
        var blob = Convert.FromBase64String(Blob);
        var position = 0;
        Punctuation = ReadRanges(blob, ref position);
        NonspacingMarks = ReadRanges(blob, ref position);
        ControlsFormatsPrivateUse = ReadRanges(blob, ref position);
        Numbers = ReadRanges(blob, ref position);
        var count = BinaryPrimitives.ReadInt32LittleEndian(blob.AsSpan(position));
        position += 4;
        var lower = new Dictionary<int, int>(count);
        for (var i = 0; i < count; i++)
        {
            lower[Read3(blob, position)] = Read3(blob, position + 3);
            position += 6;
        }
        Lowercase = lower.ToFrozenDictionary();
    }

    /// <summary>General_Category=Punctuation in Unicode 8.0.</summary>
    public static CodePointSet Punctuation { get; }

    /// <summary>General_Category=Nonspacing_Mark in Unicode 8.0.</summary>
    public static CodePointSet NonspacingMarks { get; }

    /// <summary>General_Category Control, Format or Private_Use in Unicode 8.0.</summary>
    public static CodePointSet ControlsFormatsPrivateUse { get; }

    /// <summary>General_Category=Number (Nd, Nl, No) in Unicode 17.0.</summary>
    public static CodePointSet Numbers { get; }

    /// <summary>Simple lowercase mappings that change the character, Unicode 17.0.</summary>
    public static FrozenDictionary<int, int> Lowercase { get; }

    private static CodePointSet ReadRanges(byte[] blob, ref int position)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(blob.AsSpan(position));
        position += 4;
        var ranges = new (int Start, int End)[count];
        for (var i = 0; i < count; i++)
        {
            ranges[i] = (Read3(blob, position), Read3(blob, position + 3));
            position += 6;
        }
        return new CodePointSet(ranges);
    }

    private static int Read3(byte[] blob, int at) => blob[at] | (blob[at + 1] << 8) | (blob[at + 2] << 16);
}

/// <summary>A set of code points: a bitmap for the BMP, sorted inclusive ranges beyond it.</summary>
internal sealed class CodePointSet
{
    private readonly ulong[] _bmp = new ulong[65536 / 64];
    private readonly int[] _starts;
    private readonly int[] _ends;

    public CodePointSet((int Start, int End)[] ranges)
    {
        var astral = new List<(int Start, int End)>();
        foreach (var (start, end) in ranges)
        {
            for (var cp = start; cp <= Math.Min(end, 0xFFFF); cp++)
            {
                _bmp[cp >> 6] |= 1UL << (cp & 63);
            }
            if (end > 0xFFFF)
            {
                astral.Add((Math.Max(start, 0x10000), end));
            }
        }
        _starts = astral.Select(r => r.Start).ToArray();
        _ends = astral.Select(r => r.End).ToArray();
    }

    public bool Contains(int cp)
    {
        if (cp <= 0xFFFF)
        {
            return (_bmp[cp >> 6] & (1UL << (cp & 63))) != 0;
        }
        var index = Array.BinarySearch(_starts, cp);
        if (index >= 0)
        {
            return true;
        }
        index = ~index - 1;
        return index >= 0 && cp <= _ends[index];
    }
}
