using System.Buffers.Binary;
using System.Collections.Frozen;

namespace Riverbed.Tokenization.Unicode;

/// <summary>
/// Unicode 9.0.0 normalization facts (combining classes, full decompositions, primary compositions, marks), decoded
/// once from the generated blob. 9.0.0 on purpose: it is what HF tokenizers' normalizers use, so a character
/// assigned later is left alone here exactly as it is there.
/// </summary>
internal static partial class UnicodeNormalizationData
{
    private static readonly byte[] CombiningClassPages;
    private static readonly ushort[] CombiningClassIndex;
    private static readonly FrozenDictionary<int, int[]> Canonical;
    private static readonly FrozenDictionary<int, int[]> Compatibility;
    private static readonly FrozenDictionary<long, int> Compositions;
    private static readonly FrozenSet<int> Marks;
    private static readonly byte[] QuickCheckPages;
    private static readonly ushort[] QuickCheckIndex;

    /// <summary>Quick-check flags: the character decomposes (canonically), decomposes by compatibility, can be
    /// reordered (combining class != 0), or can be absorbed by a preceding character in composition.</summary>
    [Flags]
    internal enum QuickCheck : byte
    {
        None = 0,
        ChangesNfd = 1,
        ChangesNfkd = 2,
        ComposesAsSecond = 4,
    }

    // Below these code points no character decomposes (canonically / by compatibility): the ASCII fast path.
    internal const int FirstCanonicalDecomposable = 0xC0;
    internal const int FirstCompatibilityDecomposable = 0xA0;

    static UnicodeNormalizationData()
    {
        var blob = Convert.FromBase64String(Blob);
        var position = 0;

        var classes = new Dictionary<int, byte>();
        var count = ReadCount(blob, ref position);
        for (var i = 0; i < count; i++)
        {
            var cp = ReadCodePoint(blob, ref position);
            classes[cp] = blob[position++];
        }
        (CombiningClassIndex, CombiningClassPages) = BuildPages(classes);

        Canonical = ReadDecompositions(blob, ref position);
        Compatibility = ReadDecompositions(blob, ref position);

        var compositions = new Dictionary<long, int>();
        count = ReadCount(blob, ref position);
        for (var i = 0; i < count; i++)
        {
            var first = ReadCodePoint(blob, ref position);
            var second = ReadCodePoint(blob, ref position);
            compositions[PairKey(first, second)] = ReadCodePoint(blob, ref position);
        }
        Compositions = compositions.ToFrozenDictionary();

        var flags = new Dictionary<int, byte>();
        void Flag(int cp, QuickCheck flag) => flags[cp] = (byte)(flags.GetValueOrDefault(cp) | (byte)flag);
        foreach (var cp in classes.Keys)
        {
            Flag(cp, QuickCheck.ChangesNfd | QuickCheck.ChangesNfkd);
        }
        foreach (var cp in Canonical.Keys)
        {
            Flag(cp, QuickCheck.ChangesNfd | QuickCheck.ChangesNfkd);
        }
        foreach (var cp in Compatibility.Keys)
        {
            Flag(cp, QuickCheck.ChangesNfkd);
        }
        foreach (var key in compositions.Keys)
        {
            Flag((int)(key & 0x1FFFFF), QuickCheck.ComposesAsSecond);
        }
        for (var cp = 0xAC00; cp < 0xAC00 + 11172; cp++)
        {
            Flag(cp, QuickCheck.ChangesNfd | QuickCheck.ChangesNfkd);
        }
        for (var cp = 0x1161; cp <= 0x11C2; cp++)
        {
            Flag(cp, QuickCheck.ComposesAsSecond); // Hangul vowel and trailing jamo join the syllable before them
        }
        (QuickCheckIndex, QuickCheckPages) = BuildPages(flags);

        var marks = new HashSet<int>();
        count = ReadCount(blob, ref position);
        for (var i = 0; i < count; i++)
        {
            marks.Add(ReadCodePoint(blob, ref position));
        }
        Marks = marks.ToFrozenSet();
    }

    /// <summary>What normalization can do to this character (<see cref="QuickCheck.None"/>: nothing, in any form).</summary>
    public static QuickCheck Check(int codePoint) =>
        codePoint > 0x10FFFF
            ? QuickCheck.None
            : (QuickCheck)QuickCheckPages[(QuickCheckIndex[codePoint >> 8] << 8) | (codePoint & 0xFF)];

    /// <summary>The canonical combining class (0 for starters and for anything unassigned in 9.0).</summary>
    public static byte CombiningClass(int codePoint) =>
        codePoint < 0x300 || codePoint > 0x10FFFF
            ? (byte)0
            : CombiningClassPages[(CombiningClassIndex[codePoint >> 8] << 8) | (codePoint & 0xFF)];

    /// <summary>The full (recursive) canonical decomposition, or null when the character is its own.</summary>
    public static int[]? CanonicalDecomposition(int codePoint) =>
        codePoint < FirstCanonicalDecomposable ? null : Canonical.GetValueOrDefault(codePoint);

    /// <summary>The full compatibility decomposition (falling back to the canonical one), or null.</summary>
    public static int[]? CompatibilityDecomposition(int codePoint)
    {
        if (codePoint < FirstCompatibilityDecomposable)
        {
            return null;
        }
        return Compatibility.GetValueOrDefault(codePoint) ?? Canonical.GetValueOrDefault(codePoint);
    }

    /// <summary>The primary composite of two characters (Hangul syllables included), or -1.</summary>
    public static int Compose(int first, int second)
    {
        const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
        const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;
        if (first >= LBase && first < LBase + LCount && second >= VBase && second < VBase + VCount)
        {
            return SBase + ((first - LBase) * NCount) + ((second - VBase) * TCount);
        }
        if (first >= SBase && first < SBase + SCount && (first - SBase) % TCount == 0
            && second > TBase && second < TBase + TCount)
        {
            return first + (second - TBase);
        }
        return Compositions.TryGetValue(PairKey(first, second), out var composite) ? composite : -1;
    }

    /// <summary>Whether the character is a Hangul syllable (decomposed algorithmically, not by table).</summary>
    public static bool IsHangulSyllable(int codePoint) => codePoint >= 0xAC00 && codePoint < 0xAC00 + 11172;

    /// <summary>Writes the Hangul jamo of a syllable; returns how many (2 or 3).</summary>
    public static int DecomposeHangul(int syllable, Span<int> jamo)
    {
        var index = syllable - 0xAC00;
        jamo[0] = 0x1100 + (index / 588);
        jamo[1] = 0x1161 + (index % 588 / 28);
        var trailing = index % 28;
        if (trailing == 0)
        {
            return 2;
        }
        jamo[2] = 0x11A7 + trailing;
        return 3;
    }

    /// <summary>General_Category=Mark as of Unicode 9.0 (what HF's StripAccents removes).</summary>
    public static bool IsCombiningMark(int codePoint) => codePoint >= 0x300 && Marks.Contains(codePoint);

    private static long PairKey(int first, int second) => ((long)first << 21) | (uint)second;

    private static int ReadCount(byte[] blob, ref int position)
    {
        var value = BinaryPrimitives.ReadInt32LittleEndian(blob.AsSpan(position));
        position += 4;
        return value;
    }

    private static int ReadCodePoint(byte[] blob, ref int position)
    {
        var value = blob[position] | (blob[position + 1] << 8) | (blob[position + 2] << 16);
        position += 3;
        return value;
    }

    private static FrozenDictionary<int, int[]> ReadDecompositions(byte[] blob, ref int position)
    {
        var result = new Dictionary<int, int[]>();
        var count = ReadCount(blob, ref position);
        for (var i = 0; i < count; i++)
        {
            var cp = ReadCodePoint(blob, ref position);
            var mapping = new int[blob[position++]];
            for (var j = 0; j < mapping.Length; j++)
            {
                mapping[j] = ReadCodePoint(blob, ref position);
            }
            result[cp] = mapping;
        }
        return result.ToFrozenDictionary();
    }

    // Two-level table: 0x1100 pages of 256 code points, identical pages shared (most are all zero).
    private static (ushort[] Index, byte[] Pages) BuildPages(Dictionary<int, byte> values)
    {
        var index = new ushort[0x1100];
        var pages = new List<byte[]> { new byte[256] };
        var known = new Dictionary<string, ushort> { [Convert.ToBase64String(pages[0])] = 0 };
        for (var page = 0; page < index.Length; page++)
        {
            var content = new byte[256];
            var any = false;
            for (var i = 0; i < 256; i++)
            {
                if (values.TryGetValue((page << 8) | i, out var value))
                {
                    content[i] = value;
                    any = true;
                }
            }
            if (!any)
            {
                continue;
            }
            var key = Convert.ToBase64String(content);
            if (!known.TryGetValue(key, out var slot))
            {
                slot = (ushort)pages.Count;
                pages.Add(content);
                known[key] = slot;
            }
            index[page] = slot;
        }
        return (index, pages.SelectMany(p => p).ToArray());
    }
}
