using System.Text;
using Riverbed.Tokenization.Text;

namespace Riverbed.Tokenization.Unicode;

internal enum NormalizationKind
{
    Nfd,
    Nfkd,
    Nfc,
    Nfkc,
}

/// <summary>
/// NFD/NFKD/NFC/NFKC over a <see cref="NormalizedSlice"/>, reporting for every output character how it relates to
/// the input (the change values HF's alignment-tracking normalizer produces): the first character of a
/// decomposition replaces its source, the others are insertions, and a composition replaces its first part while
/// removing the parts it absorbed. Marks moved by canonical reordering carry their change with them.
/// </summary>
internal static class UnicodeNormalizer
{
    [ThreadStatic]
    private static Scratch? t_scratch;

    public static void Apply(NormalizedSlice slice, NormalizationKind kind)
    {
        var compatibility = kind is NormalizationKind.Nfkd or NormalizationKind.Nfkc;
        var changes = compatibility
            ? UnicodeNormalizationData.QuickCheck.ChangesNfkd
            : UnicodeNormalizationData.QuickCheck.ChangesNfd;
        if (kind is NormalizationKind.Nfc or NormalizationKind.Nfkc)
        {
            changes |= UnicodeNormalizationData.QuickCheck.ComposesAsSecond;
        }
        var threshold = compatibility
            ? UnicodeNormalizationData.FirstCompatibilityDecomposable
            : UnicodeNormalizationData.FirstCanonicalDecomposable;
        var chars = slice.Chars;
        var trivial = true;
        for (var i = 0; i < chars.Length;)
        {
            if (chars[i] < threshold)
            {
                i++;
                continue;
            }
            if ((UnicodeNormalizationData.Check(CodePoints.Read(chars, ref i)) & changes) != 0)
            {
                trivial = false;
                break;
            }
        }
        if (trivial)
        {
            return; // no character decomposes, reorders or composes: the text is already in this form
        }

        var scratch = chars.Length > Processing.Workspace.LargeInput ? new Scratch() : t_scratch ??= new Scratch();
        var count = Decompose(chars, compatibility, scratch);
        var writer = slice.BeginTransform();
        if (kind is NormalizationKind.Nfd or NormalizationKind.Nfkd)
        {
            for (var i = 0; i < count; i++)
            {
                writer.Emit(scratch.CodePoints[i], scratch.Changes[i]);
            }
        }
        else
        {
            Compose(scratch, count, ref writer);
        }
        slice.Commit(ref writer);
    }

    private static int Decompose(ReadOnlySpan<char> chars, bool compatibility, Scratch scratch)
    {
        var count = 0;
        var runStart = 0; // first index of the current run of non-starters awaiting canonical ordering
        var jamo = scratch.Jamo;
        for (var i = 0; i < chars.Length;)
        {
            var cp = ReadCodePoint(chars, ref i);
            ReadOnlySpan<int> parts;
            if (cp < 0x80)
            {
                parts = default;
            }
            else if (UnicodeNormalizationData.IsHangulSyllable(cp))
            {
                parts = jamo.AsSpan(0, UnicodeNormalizationData.DecomposeHangul(cp, jamo));
            }
            else
            {
                parts = (compatibility
                    ? UnicodeNormalizationData.CompatibilityDecomposition(cp)
                    : UnicodeNormalizationData.CanonicalDecomposition(cp)) ?? default(ReadOnlySpan<int>);
            }

            if (parts.IsEmpty)
            {
                Push(scratch, ref count, ref runStart, cp, 0);
            }
            else
            {
                for (var p = 0; p < parts.Length; p++)
                {
                    Push(scratch, ref count, ref runStart, parts[p], p == 0 ? 0 : 1);
                }
            }
        }
        SortRun(scratch, runStart, count);
        return count;
    }

    private static void Push(Scratch scratch, ref int count, ref int runStart, int cp, int change)
    {
        var cls = UnicodeNormalizationData.CombiningClass(cp);
        if (cls == 0)
        {
            SortRun(scratch, runStart, count);
            runStart = count + 1;
        }
        scratch.Ensure(count + 1);
        scratch.CodePoints[count] = cp;
        scratch.Changes[count] = change;
        scratch.Classes[count] = cls;
        count++;
    }

    // Canonical ordering: a stable sort of a run of non-starters by combining class. Runs are tiny (insertion sort),
    // except in hostile text (thousands of stacked marks), where a counting sort keeps the cost linear.
    private static void SortRun(Scratch scratch, int start, int end)
    {
        if (end - start > 32)
        {
            CountingSort(scratch, start, end);
            return;
        }
        for (var i = start + 1; i < end; i++)
        {
            var cls = scratch.Classes[i];
            var cp = scratch.CodePoints[i];
            var change = scratch.Changes[i];
            var j = i - 1;
            while (j >= start && scratch.Classes[j] > cls)
            {
                scratch.Classes[j + 1] = scratch.Classes[j];
                scratch.CodePoints[j + 1] = scratch.CodePoints[j];
                scratch.Changes[j + 1] = scratch.Changes[j];
                j--;
            }
            scratch.Classes[j + 1] = cls;
            scratch.CodePoints[j + 1] = cp;
            scratch.Changes[j + 1] = change;
        }
    }

    private static void CountingSort(Scratch scratch, int start, int end)
    {
        Span<int> positions = stackalloc int[257];
        positions.Clear();
        for (var i = start; i < end; i++)
        {
            positions[scratch.Classes[i] + 1]++;
        }
        for (var c = 1; c < positions.Length; c++)
        {
            positions[c] += positions[c - 1];
        }
        var length = end - start;
        var codePoints = new int[length];
        var changes = new int[length];
        var classes = new byte[length];
        for (var i = start; i < end; i++)
        {
            var target = positions[scratch.Classes[i]]++;
            codePoints[target] = scratch.CodePoints[i];
            changes[target] = scratch.Changes[i];
            classes[target] = scratch.Classes[i];
        }
        codePoints.CopyTo(scratch.CodePoints, start);
        changes.CopyTo(scratch.Changes, start);
        classes.CopyTo(scratch.Classes, start);
    }

    // Canonical composition over the decomposed stream. A character that joins the current starter folds its change
    // into the starter's (minus one: it is removed); characters that cannot join wait in `pending` and follow the
    // starter out, in order.
    private static void Compose(Scratch scratch, int count, ref NormalizedSlice.TransformWriter writer)
    {
        var hasStarter = false;
        int starter = 0, starterChange = 0;
        var lastClass = -1; // -1: nothing pending since the starter
        var pendingCount = 0;
        for (var i = 0; i < count; i++)
        {
            var cp = scratch.CodePoints[i];
            var change = scratch.Changes[i];
            int cls = scratch.Classes[i];
            if (!hasStarter)
            {
                if (cls != 0)
                {
                    writer.Emit(cp, change);
                    continue;
                }
                hasStarter = true;
                starter = cp;
                starterChange = change;
                continue;
            }

            if (lastClass >= 0 && lastClass >= cls)
            {
                // Blocked from the starter.
                if (cls == 0)
                {
                    writer.Emit(starter, starterChange);
                    for (var p = 0; p < pendingCount; p++)
                    {
                        writer.Emit(scratch.PendingCodePoints[p], scratch.PendingChanges[p]);
                    }
                    pendingCount = 0;
                    starter = cp;
                    starterChange = change;
                    lastClass = -1;
                    continue;
                }
                scratch.AddPending(ref pendingCount, cp, change);
                lastClass = cls;
                continue;
            }

            var composite = UnicodeNormalizationData.Compose(starter, cp);
            if (composite >= 0)
            {
                starter = composite;
                starterChange = starterChange + change - 1;
                continue;
            }
            if (lastClass < 0 && cls == 0)
            {
                writer.Emit(starter, starterChange);
                starter = cp;
                starterChange = change;
                continue;
            }
            scratch.AddPending(ref pendingCount, cp, change);
            lastClass = cls;
        }
        if (hasStarter)
        {
            writer.Emit(starter, starterChange);
        }
        for (var p = 0; p < pendingCount; p++)
        {
            writer.Emit(scratch.PendingCodePoints[p], scratch.PendingChanges[p]);
        }
    }

    private static int ReadCodePoint(ReadOnlySpan<char> chars, ref int index)
    {
        var c = chars[index];
        if (char.IsHighSurrogate(c) && index + 1 < chars.Length && char.IsLowSurrogate(chars[index + 1]))
        {
            index += 2;
            return char.ConvertToUtf32(c, chars[index - 1]);
        }
        index++;
        return char.IsSurrogate(c) ? Rune.ReplacementChar.Value : c;
    }

    private sealed class Scratch
    {
        public int[] CodePoints = new int[64];
        public int[] Changes = new int[64];
        public byte[] Classes = new byte[64];
        public int[] PendingCodePoints = new int[16];
        public int[] PendingChanges = new int[16];
        public readonly int[] Jamo = new int[3];

        public void Ensure(int size)
        {
            if (size > CodePoints.Length)
            {
                var n = Math.Max(size, CodePoints.Length * 2);
                Array.Resize(ref CodePoints, n);
                Array.Resize(ref Changes, n);
                Array.Resize(ref Classes, n);
            }
        }

        public void AddPending(ref int count, int cp, int change)
        {
            if (count == PendingCodePoints.Length)
            {
                Array.Resize(ref PendingCodePoints, count * 2);
                Array.Resize(ref PendingChanges, count * 2);
            }
            PendingCodePoints[count] = cp;
            PendingChanges[count] = change;
            count++;
        }
    }
}
