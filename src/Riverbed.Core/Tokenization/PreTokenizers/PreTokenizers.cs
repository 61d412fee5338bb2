using Riverbed.Tokenization.Normalizers;
using Riverbed.Tokenization.Text;
using Riverbed.Tokenization.Unicode;

namespace Riverbed.Tokenization.PreTokenizers;

/// <summary>A tokenizer.json pre-tokenizer: cuts normalized text into words (and may rewrite them).</summary>
internal abstract class PreTokenizer
{
    public abstract void PreTokenize(PreTokenizedText text);
}

/// <summary>Applies several pre-tokenizers in order.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizer> preTokenizers) : PreTokenizer
{
    // An array: foreach over an interface would box an enumerator on every call.
    public PreTokenizer[] PreTokenizers { get; } = [.. preTokenizers];

    public override void PreTokenize(PreTokenizedText text)
    {
        foreach (var preTokenizer in PreTokenizers)
        {
            preTokenizer.PreTokenize(text);
        }
    }
}

/// <summary>
/// BERT's pre-tokenizer: whitespace separates words and is dropped, each punctuation character is a word of its own.
/// (HF splits twice, on whitespace then on punctuation; one pass gives the same parts.)
/// </summary>
internal sealed class BertPreTokenizer : PreTokenizer, ISplitter
{
    public override void PreTokenize(PreTokenizedText text) => text.SplitEach(this);

    public void Split(ReadOnlySpan<char> text, ref PreTokenizedText.SplitOutput output)
    {
        var wordStart = 0;
        for (var i = 0; i < text.Length;)
        {
            var start = i;
            var cp = CodePoints.Read(text, ref i);
            if (CharacterClasses.IsWhitespace(cp))
            {
                output.Add(wordStart, start);
                wordStart = i;
            }
            else if (CharacterClasses.IsBertPunctuation(cp))
            {
                output.Add(wordStart, start);
                output.Add(start, i);
                wordStart = i;
            }
        }
        output.Add(wordStart, text.Length);
    }
}

/// <summary>HF's Whitespace pre-tokenizer (<c>\w+|[^\w\s]+</c>): runs of word characters and runs of other
/// non-space characters; whitespace is dropped.</summary>
internal sealed class WhitespacePreTokenizer : PreTokenizer, ISplitter
{
    public override void PreTokenize(PreTokenizedText text) => text.SplitEach(this);

    public void Split(ReadOnlySpan<char> text, ref PreTokenizedText.SplitOutput output)
    {
        var runStart = 0;
        var runKind = 0; // 0: whitespace (dropped), 1: word characters, 2: other
        for (var i = 0; i < text.Length;)
        {
            var start = i;
            var cp = CodePoints.Read(text, ref i);
            var kind = CharacterClasses.IsWordCharacter(cp) ? 1 : CharacterClasses.IsWhitespace(cp) ? 0 : 2;
            if (kind != runKind)
            {
                if (runKind != 0)
                {
                    output.Add(runStart, start);
                }
                runStart = start;
                runKind = kind;
            }
        }
        if (runKind != 0)
        {
            output.Add(runStart, text.Length);
        }
    }
}

/// <summary>Splits on whitespace, which is dropped.</summary>
internal sealed class WhitespaceSplitPreTokenizer : PreTokenizer, ISplitter
{
    public override void PreTokenize(PreTokenizedText text) => text.SplitEach(this);

    public void Split(ReadOnlySpan<char> text, ref PreTokenizedText.SplitOutput output)
    {
        var wordStart = 0;
        for (var i = 0; i < text.Length;)
        {
            var start = i;
            if (CharacterClasses.IsWhitespace(CodePoints.Read(text, ref i)))
            {
                output.Add(wordStart, start);
                wordStart = i;
            }
        }
        output.Add(wordStart, text.Length);
    }
}

/// <summary>Splits on one character, which is dropped (HF's CharDelimiterSplit).</summary>
internal sealed class CharDelimiterPreTokenizer(int delimiter) : PreTokenizer, ISplitter
{
    public override void PreTokenize(PreTokenizedText text) => text.SplitEach(this);

    public void Split(ReadOnlySpan<char> text, ref PreTokenizedText.SplitOutput output)
    {
        var pieces = PatternPieces.Rent();
        pieces.FromPredicate(text, cp => cp == delimiter);
        pieces.Emit(SplitBehavior.Removed, ref output);
    }
}

/// <summary>Splits on punctuation (BERT's definition) with a configurable behavior.</summary>
internal sealed class PunctuationPreTokenizer(SplitBehavior behavior) : PreTokenizer, ISplitter
{
    private static readonly Func<int, bool> IsPunctuation = CharacterClasses.IsBertPunctuation;

    public override void PreTokenize(PreTokenizedText text) => text.SplitEach(this);

    public void Split(ReadOnlySpan<char> text, ref PreTokenizedText.SplitOutput output)
    {
        var pieces = PatternPieces.Rent();
        pieces.FromPredicate(text, IsPunctuation);
        pieces.Emit(behavior, ref output);
    }
}

/// <summary>Splits digits (Unicode numbers) from the rest, each alone or in runs.</summary>
internal sealed class DigitsPreTokenizer(bool individualDigits) : PreTokenizer, ISplitter
{
    private static readonly Func<int, bool> IsNumeric = CharacterClasses.IsNumeric;

    public override void PreTokenize(PreTokenizedText text) => text.SplitEach(this);

    public void Split(ReadOnlySpan<char> text, ref PreTokenizedText.SplitOutput output)
    {
        var pieces = PatternPieces.Rent();
        pieces.FromPredicate(text, IsNumeric);
        pieces.Emit(individualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous, ref output);
    }
}

/// <summary>Splits on a literal string or a regex, optionally inverted (the pattern matches the parts).</summary>
internal sealed class SplitPreTokenizer(TextPattern pattern, SplitBehavior behavior, bool invert)
    : PreTokenizer, ISplitter
{
    public override void PreTokenize(PreTokenizedText text) => text.SplitEach(this);

    public void Split(ReadOnlySpan<char> text, ref PreTokenizedText.SplitOutput output)
    {
        var matches = pattern.FindAll(text);
        var pieces = PatternPieces.Rent();
        pieces.FromMatches(matches, text.Length, invert);
        pieces.Emit(behavior, ref output);
    }
}

/// <summary>When SentencePiece-style text gets its word-boundary marker.</summary>
internal enum PrependScheme
{
    Always,
    First,
    Never,
}

/// <summary>
/// SentencePiece's word boundaries: spaces become the replacement character (▁), a ▁ is prepended to each piece
/// (or only the first, or never), and each ▁ starts a new word.
/// </summary>
internal sealed class MetaspacePreTokenizer(int replacement, PrependScheme prependScheme, bool split)
    : PreTokenizer, ISliceNormalizer, ISplitter
{
    private readonly string _replacement = char.ConvertFromUtf32(replacement);
    private readonly TextPattern _space = TextPattern.Literal(" ");
    private readonly Func<int, bool> _isReplacement = cp => cp == replacement;

    public int Replacement { get; } = replacement;

    public PrependScheme PrependScheme { get; } = prependScheme;

    public override void PreTokenize(PreTokenizedText text)
    {
        text.NormalizeEach(this);
        if (split)
        {
            text.SplitEach(this);
        }
    }

    public void Normalize(NormalizedSlice slice)
    {
        ReplaceNormalizer.Replace(slice, _space, _replacement);
        var prepend = PrependScheme switch
        {
            PrependScheme.Always => true,
            PrependScheme.First => slice.OriginalStart == 0,
            _ => false,
        };
        if (prepend && !slice.Chars.StartsWith(_replacement, StringComparison.Ordinal))
        {
            PrependNormalizer.PrependTo(slice, _replacement);
        }
    }

    public void Split(ReadOnlySpan<char> text, ref PreTokenizedText.SplitOutput output)
    {
        var pieces = PatternPieces.Rent();
        pieces.FromPredicate(text, _isReplacement);
        pieces.Emit(SplitBehavior.MergedWithNext, ref output);
    }
}

/// <summary>
/// GPT-2's byte-level pre-tokenizer: optionally a leading space, then GPT-2's word split (hand-coded, see
/// <see cref="Gpt2Split"/>), then every byte mapped to the printable byte alphabet.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    private static readonly PrefixSpace AddSpace = new();
    private static readonly Gpt2Split Words = new();

    public bool AddPrefixSpace { get; } = addPrefixSpace;

    public bool UseRegex { get; } = useRegex;

    public override void PreTokenize(PreTokenizedText text)
    {
        if (AddPrefixSpace)
        {
            text.NormalizeEach(AddSpace);
        }
        if (UseRegex)
        {
            text.SplitEach(Words);
        }
        text.MapEachToBytes();
    }

    private sealed class PrefixSpace : ISliceNormalizer
    {
        public void Normalize(NormalizedSlice slice)
        {
            if (slice.Length > 0 && slice.Chars[0] != ' ')
            {
                PrependNormalizer.PrependTo(slice, " ");
            }
        }
    }
}

/// <summary>
/// GPT-2's split regex <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>, hand-coded
/// with the same leftmost-first semantics (no regex engine, no backtracking): contractions; an optional single space
/// then a run of letters, of numbers, or of other symbols; a whitespace run that leaves its last character to the
/// next word when a word follows.
/// </summary>
internal sealed class Gpt2Split : ISplitter
{
    private const byte Other = 0, Letter = 1, Number = 2, Space = 3;

    public void Split(ReadOnlySpan<char> text, ref PreTokenizedText.SplitOutput output)
    {
        var i = 0;
        while (i < text.Length)
        {
            var end = MatchAt(text, i);
            output.Add(i, end);
            i = end;
        }
    }

    /// <summary>The end of the match starting at <paramref name="i"/> (every position starts a match).</summary>
    internal static int MatchAt(ReadOnlySpan<char> text, int i)
    {
        var c = text[i];
        if (c == '\'' && i + 1 < text.Length)
        {
            var contraction = Contraction(text, i + 1);
            if (contraction > 0)
            {
                return i + 1 + contraction;
            }
        }

        var position = i;
        var cp = CodePoints.Read(text, ref position);
        var kind = Classify(cp);
        if (cp == ' ' && position < text.Length)
        {
            var next = position;
            var nextKind = Classify(CodePoints.Read(text, ref next));
            if (nextKind != Space)
            {
                return RunEnd(text, next, nextKind);
            }
        }
        if (kind != Space)
        {
            return RunEnd(text, position, kind);
        }

        // Whitespace: the whole run when it ends the text or only whitespace follows; otherwise all but its last
        // character (which then starts the next word), or the single character when the run has only one.
        var runEnd = position;
        var last = i;
        while (runEnd < text.Length)
        {
            var at = runEnd;
            var cpNext = CodePoints.Read(text, ref at);
            if (Classify(cpNext) != Space)
            {
                break;
            }
            last = runEnd;
            runEnd = at;
        }
        if (runEnd == text.Length || last == i)
        {
            return runEnd;
        }
        return last;
    }

    private static int RunEnd(ReadOnlySpan<char> text, int position, byte kind)
    {
        while (position < text.Length)
        {
            var next = position;
            if (Classify(CodePoints.Read(text, ref next)) != kind)
            {
                break;
            }
            position = next;
        }
        return position;
    }

    private static int Contraction(ReadOnlySpan<char> text, int at)
    {
        var c = text[at];
        if (c is 's' or 't' or 'm' or 'd')
        {
            return 1;
        }
        if (at + 1 < text.Length)
        {
            var d = text[at + 1];
            if ((c == 'r' && d == 'e') || (c == 'v' && d == 'e') || (c == 'l' && d == 'l'))
            {
                return 2;
            }
        }
        return 0;
    }

    private static byte Classify(int cp)
    {
        if (cp < 0x80)
        {
            return AsciiKinds[cp];
        }
        return CharacterClasses.IsWhitespace(cp) ? Space
            : CharacterClasses.IsLetter(cp) ? Letter
            : CharacterClasses.IsNumber(cp) ? Number
            : Other;
    }

    private static readonly byte[] AsciiKinds = BuildAsciiKinds();

    private static byte[] BuildAsciiKinds()
    {
        var kinds = new byte[0x80];
        for (var cp = 0; cp < kinds.Length; cp++)
        {
            kinds[cp] = CharacterClasses.IsWhitespace(cp) ? Space
                : CharacterClasses.IsLetter(cp) ? Letter
                : CharacterClasses.IsNumber(cp) ? Number
                : Other;
        }
        return kinds;
    }
}
