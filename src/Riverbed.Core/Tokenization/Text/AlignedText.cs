namespace Riverbed.Tokenization.Text;

/// <summary>Text kept as three parallel arrays: characters and, per UTF-16 unit, its original start and end.</summary>
internal static class AlignedText
{
    /// <summary>Grows the three arrays together to hold <paramref name="needed"/> units, keeping the first
    /// <paramref name="keep"/>.</summary>
    public static void EnsureCapacity(ref char[] chars, ref int[] starts, ref int[] ends, int needed, int keep)
    {
        if (needed <= chars.Length)
        {
            return;
        }
        var size = Math.Max(needed, chars.Length * 2);
        var newChars = new char[size];
        var newStarts = new int[size];
        var newEnds = new int[size];
        chars.AsSpan(0, keep).CopyTo(newChars);
        starts.AsSpan(0, keep).CopyTo(newStarts);
        ends.AsSpan(0, keep).CopyTo(newEnds);
        chars = newChars;
        starts = newStarts;
        ends = newEnds;
    }
}
