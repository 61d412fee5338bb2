using Riverbed.Tokenization.Text;
using Riverbed.Tokenization.Unicode;

namespace Riverbed.Tokenization.Normalizers;

/// <summary>A tokenizer.json normalizer: rewrites text while keeping every character aligned to the original.</summary>
internal abstract class Normalizer : ISliceNormalizer
{
    public abstract void Normalize(NormalizedSlice slice);
}

/// <summary>Applies several normalizers in order.</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<Normalizer> normalizers) : Normalizer
{
    // An array: foreach over an interface would box an enumerator on every call.
    public Normalizer[] Normalizers { get; } = [.. normalizers];

    public override void Normalize(NormalizedSlice slice)
    {
        foreach (var normalizer in Normalizers)
        {
            normalizer.Normalize(slice);
        }
    }
}

/// <summary>BERT's normalizer: drop controls and map whitespace to spaces, space out CJK ideographs, strip accents
/// (NFD, then remove nonspacing marks), lowercase — in that order, as HF does.</summary>
internal sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool stripAccents, bool lowercase)
    : Normalizer
{
    public override void Normalize(NormalizedSlice slice)
    {
        if (cleanText || handleChineseChars)
        {
            CleanAndSpaceIdeographs(slice);
        }
        if (stripAccents)
        {
            UnicodeNormalizer.Apply(slice, NormalizationKind.Nfd);
            FilterNormalizer.Filter(slice, static cp => !CharacterClasses.IsNonspacingMark(cp), 0x300);
        }
        if (lowercase)
        {
            LowercaseNormalizer.Lowercase(slice);
        }
    }

    /// <summary>The CJK ideograph blocks BERT spaces out (HF's <c>is_chinese_char</c>).</summary>
    public static bool IsChineseCharacter(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    // HF's clean_text (a filter, then a map) and handle_chinese_chars act per character and keep each character's
    // alignment, so one pass gives the same text and the same alignments; mapping whitespace to a space is done in
    // place, and only a removal or an ideograph needs a transform.
    private void CleanAndSpaceIdeographs(NormalizedSlice slice)
    {
        var chars = slice.MutableChars;
        for (var i = 0; i < chars.Length;)
        {
            var c = chars[i];
            if (c >= 0x20 && c < 0x7F)
            {
                i++;
                continue;
            }
            var start = i;
            var cp = CodePoints.Read(chars, ref i);
            if (cleanText)
            {
                if (cp == 0 || cp == 0xFFFD || CharacterClasses.IsBertControl(cp))
                {
                    TransformFrom(slice);
                    return;
                }
                if (cp is '\t' or '\n' or '\r' || CharacterClasses.IsWhitespace(cp))
                {
                    chars[start] = ' '; // whitespace is in the BMP: one unit for one unit
                    continue;
                }
            }
            if (handleChineseChars && IsChineseCharacter(cp))
            {
                TransformFrom(slice);
                return;
            }
        }
    }

    private void TransformFrom(NormalizedSlice slice)
    {
        var chars = slice.Chars;
        var writer = slice.BeginTransform();
        for (var i = 0; i < chars.Length;)
        {
            var cp = CodePoints.Read(chars, ref i);
            if (cleanText)
            {
                if (cp == 0 || cp == 0xFFFD || CharacterClasses.IsBertControl(cp))
                {
                    writer.Skip(1);
                    continue;
                }
                if (cp is '\t' or '\n' or '\r' || CharacterClasses.IsWhitespace(cp))
                {
                    cp = ' ';
                }
            }
            if (handleChineseChars && IsChineseCharacter(cp))
            {
                writer.Emit(' ', 0);
                writer.Emit(cp, 1);
                writer.Emit(' ', 1);
            }
            else
            {
                writer.Emit(cp, 0);
            }
        }
        slice.Commit(ref writer);
    }
}

/// <summary>NFC, NFD, NFKC or NFKD.</summary>
internal sealed class UnicodeFormNormalizer(NormalizationKind kind) : Normalizer
{
    public NormalizationKind Kind { get; } = kind;

    public override void Normalize(NormalizedSlice slice) => UnicodeNormalizer.Apply(slice, Kind);
}

/// <summary>Lowercases with Rust's full per-character mapping (Σ → σ everywhere, İ → i̇).</summary>
internal sealed class LowercaseNormalizer : Normalizer
{
    public override void Normalize(NormalizedSlice slice) => Lowercase(slice);

    public static void Lowercase(NormalizedSlice slice)
    {
        // In place while every character lowercases to one of the same UTF-16 length (nearly always); a transform
        // only for the rest (İ becomes two characters, a few mappings cross the BMP boundary).
        var chars = slice.MutableChars;
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            if (c < 0x80)
            {
                if (c is >= 'A' and <= 'Z')
                {
                    chars[i] = (char)(c + 32);
                }
                continue;
            }
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
                {
                    var lowerAstral = CharacterClasses.ToLower(char.ConvertToUtf32(c, chars[i + 1]), out var extra);
                    if (extra != 0 || lowerAstral <= 0xFFFF)
                    {
                        LowercaseByTransform(slice);
                        return;
                    }
                    var v = lowerAstral - 0x10000;
                    chars[i] = (char)(0xD800 + (v >> 10));
                    chars[i + 1] = (char)(0xDC00 + (v & 0x3FF));
                    i++;
                }
                continue;
            }
            var lower = CharacterClasses.ToLower(c, out var second);
            if (second != 0 || lower > 0xFFFF)
            {
                LowercaseByTransform(slice);
                return;
            }
            chars[i] = (char)lower;
        }
    }

    // Lowercasing is idempotent, so the characters already lowered in place come out the same.
    private static void LowercaseByTransform(NormalizedSlice slice)
    {
        var chars = slice.Chars;
        var writer = slice.BeginTransform();
        for (var i = 0; i < chars.Length;)
        {
            var cp = CodePoints.Read(chars, ref i);
            var lower = CharacterClasses.ToLower(cp, out var second);
            writer.Emit(lower, 0);
            if (second != 0)
            {
                writer.Emit(second, 1);
            }
        }
        slice.Commit(ref writer);
    }
}

/// <summary>Removes characters (HF's <c>NormalizedString::filter</c>).</summary>
internal static class FilterNormalizer
{
    /// <param name="below">Characters below this code point are always kept (a fast path).</param>
    public static void Filter(NormalizedSlice slice, Func<int, bool> keep, int below)
    {
        var chars = slice.Chars;
        var any = false;
        foreach (var c in chars)
        {
            if (c >= below)
            {
                any = true;
                break;
            }
        }
        if (!any)
        {
            return;
        }
        var writer = slice.BeginTransform();
        for (var i = 0; i < chars.Length;)
        {
            var cp = CodePoints.Read(chars, ref i);
            if (cp < below || keep(cp))
            {
                writer.Emit(cp, 0);
            }
            else
            {
                writer.Skip(1);
            }
        }
        slice.Commit(ref writer);
    }
}

/// <summary>Removes combining marks (Unicode 9.0 General_Category=Mark, as HF's StripAccents).</summary>
internal sealed class StripAccentsNormalizer : Normalizer
{
    public override void Normalize(NormalizedSlice slice) =>
        FilterNormalizer.Filter(slice, static cp => !UnicodeNormalizationData.IsCombiningMark(cp), 0x300);
}

/// <summary>Strips leading and/or trailing whitespace.</summary>
internal sealed class StripNormalizer(bool left, bool right) : Normalizer
{
    public override void Normalize(NormalizedSlice slice) => Strip(slice, left, right);

    public static void Strip(NormalizedSlice slice, bool left, bool right)
    {
        var chars = slice.Chars;
        var leading = 0;
        var leadingUnits = 0;
        if (left)
        {
            for (var i = 0; i < chars.Length;)
            {
                if (!CharacterClasses.IsWhitespace(CodePoints.Read(chars, ref i)))
                {
                    break;
                }
                leading++;
                leadingUnits = i;
            }
        }
        var trailingStart = chars.Length;
        if (right)
        {
            while (trailingStart > leadingUnits)
            {
                // All whitespace is in the BMP, so one unit back is one character back.
                if (!CharacterClasses.IsWhitespace(chars[trailingStart - 1]))
                {
                    break;
                }
                trailingStart--;
            }
        }
        if (leadingUnits == 0 && trailingStart == chars.Length)
        {
            return;
        }
        var writer = slice.BeginTransform();
        writer.Skip(leading);
        for (var i = leadingUnits; i < trailingStart;)
        {
            writer.Emit(CodePoints.Read(chars, ref i), 0);
        }
        slice.Commit(ref writer);
    }
}

/// <summary>Prepends a string to non-empty text (the first prepended character takes the first character's place).</summary>
internal sealed class PrependNormalizer(string prepend) : Normalizer
{
    public string Prepend { get; } = prepend;

    public override void Normalize(NormalizedSlice slice) => PrependTo(slice, Prepend);

    public static void PrependTo(NormalizedSlice slice, string prefix)
    {
        var chars = slice.Chars;
        if (chars.Length == 0 || prefix.Length == 0)
        {
            return;
        }
        var writer = slice.BeginTransform();
        var index = 0;
        var first = CodePoints.Read(chars, ref index);
        var p = 0;
        var isFirst = true;
        while (p < prefix.Length)
        {
            writer.Emit(CodePoints.Read(prefix, ref p), isFirst ? 0 : 1);
            isFirst = false;
        }
        writer.Emit(first, 1);
        while (index < chars.Length)
        {
            writer.Keep();
            index += CodePoints.LengthAt(chars, index);
        }
        slice.Commit(ref writer);
    }
}

/// <summary>Replaces every match of a pattern with a fixed string (HF's Replace normalizer).</summary>
internal sealed class ReplaceNormalizer(TextPattern pattern, string content) : Normalizer
{
    public TextPattern Pattern { get; } = pattern;

    public string Content { get; } = content;

    public override void Normalize(NormalizedSlice slice) => Replace(slice, Pattern, Content);

    /// <summary>
    /// The replacement takes the alignment of the last character it replaces (HF inserts it after removing the
    /// match); text between matches is kept as is.
    /// </summary>
    public static void Replace(NormalizedSlice slice, TextPattern pattern, string content)
    {
        var chars = slice.Chars;
        var matches = pattern.FindAll(chars);
        if (matches.Count == 0)
        {
            return;
        }
        var writer = slice.BeginTransform();
        var position = 0;
        foreach (var (start, end) in matches)
        {
            while (position < start)
            {
                writer.Keep();
                position += CodePoints.LengthAt(chars, position);
            }
            writer.Skip(CodePoints.Count(chars[start..end]));
            position = end;
            for (var i = 0; i < content.Length;)
            {
                writer.Emit(CodePoints.Read(content, ref i), 1);
            }
        }
        while (position < chars.Length)
        {
            writer.Keep();
            position += CodePoints.LengthAt(chars, position);
        }
        slice.Commit(ref writer);
    }
}

/// <summary>SentencePiece's "nmt" cleanup: drop ASCII controls, map odd spaces to a space.</summary>
internal sealed class NmtNormalizer : Normalizer
{
    public override void Normalize(NormalizedSlice slice)
    {
        var chars = slice.Chars;
        var writer = slice.BeginTransform();
        for (var i = 0; i < chars.Length;)
        {
            var cp = CodePoints.Read(chars, ref i);
            if (cp is (>= 0x1 and <= 0x8) or 0xB or (>= 0xE and <= 0x1F) or 0x7F or 0x8F or 0x9F)
            {
                writer.Skip(1);
                continue;
            }
            if (cp is 0x9 or 0xA or 0xC or 0xD or 0x1680 or (>= 0x200B and <= 0x200F) or 0x2028 or 0x2029
                or 0x2581 or 0xFEFF or 0xFFFD)
            {
                cp = ' ';
            }
            writer.Emit(cp, 0);
        }
        slice.Commit(ref writer);
    }
}

/// <summary>Maps every UTF-8 byte of the text to GPT-2's printable byte alphabet (HF's ByteLevel normalizer).</summary>
internal sealed class ByteLevelNormalizer : Normalizer
{
    public override void Normalize(NormalizedSlice slice) => ByteLevelAlphabet.MapToBytes(slice);
}
