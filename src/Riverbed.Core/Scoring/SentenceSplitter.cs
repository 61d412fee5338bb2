using System.Collections.Frozen;
using System.Globalization;

namespace Riverbed.Scoring;

/// <summary>
/// Splits assistant text into sentences for the self-contradiction check. Rule-based and deterministic:
/// <list type="bullet">
/// <item>every line break ends a sentence (chat answers are line-structured: lists, headings, code);</item>
/// <item>list markers at the start of a line ("- ", "* ", "• ", "1. ", "2) ", "a) ") are not part of the sentence;</item>
/// <item>'.', '!', '?' and '…' (repeated or not, then closing quotes or brackets) end a sentence when whitespace
/// follows and the next word starts with an upper-case letter, a digit, a quote or a bracket;</item>
/// <item>'。', '！', '？' end a sentence immediately;</item>
/// <item>a period does not end a sentence after a known abbreviation ("Dr.", "e.g.", "U.S."), after a single-letter
/// initial ("J. K. Rowling"), or inside a token (decimals "3.14", URLs "example.com/a.b", e-mail addresses), since
/// those periods are not followed by whitespace.</item>
/// </list>
/// Sentences are returned as character ranges of the input, trimmed of surrounding whitespace.
/// </summary>
public static class SentenceSplitter
{
    private static readonly FrozenSet<string> Abbreviations = new[]
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "e.g", "i.e", "cf", "approx", "no", "nos",
        "fig", "figs", "inc", "ltd", "co", "corp", "dept", "est", "vol", "ed", "eds", "al", "gen", "col", "lt", "sgt",
        "capt", "rev", "hon", "gov", "sen", "rep", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
        "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.u", "a.m", "p.m", "ph.d", "b.a", "m.a", "b.sc", "m.sc", "d.c",
        "op", "pp", "p", "ca", "viz", "resp", "min", "max", "ft", "in", "lb", "lbs", "oz", "km", "cm", "mm",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyList<Range> Split(string text)
    {
        var sentences = new List<Range>();
        var lineStart = 0;
        while (lineStart <= text.Length)
        {
            var newline = text.IndexOf('\n', lineStart);
            var lineEnd = newline < 0 ? text.Length : newline;
            SplitLine(text, lineStart, lineEnd, sentences);
            if (newline < 0)
            {
                break;
            }
            lineStart = newline + 1;
        }
        return sentences;
    }

    private static void SplitLine(string text, int start, int end, List<Range> sentences)
    {
        start = SkipWhitespace(text, start, end);
        start = SkipListMarker(text, start, end);
        var sentenceStart = start;
        var i = start;
        while (i < end)
        {
            var c = text[i];
            if (c is '。' or '！' or '？')
            {
                Add(text, sentenceStart, i + 1, sentences);
                sentenceStart = i + 1;
                i++;
                continue;
            }
            if (c is not ('.' or '!' or '?' or '…'))
            {
                i++;
                continue;
            }
            var terminatorStart = i;
            while (i < end && text[i] is '.' or '!' or '?' or '…')
            {
                i++;
            }
            while (i < end && IsClosing(text[i]))
            {
                i++;
            }
            if (i >= end)
            {
                break;
            }
            if (!char.IsWhiteSpace(text[i]))
            {
                continue; // "3.14", "example.com", "a.b.c": the period is inside a token
            }
            var next = SkipWhitespace(text, i, end);
            if (next >= end)
            {
                break;
            }
            var isSinglePeriod = i - terminatorStart == 1 && text[terminatorStart] == '.';
            if (StartsSentence(text[next]) && !(isSinglePeriod && EndsWithAbbreviationOrInitial(text, sentenceStart, terminatorStart)))
            {
                Add(text, sentenceStart, i, sentences);
                sentenceStart = next;
            }
            i = next;
        }
        Add(text, sentenceStart, end, sentences);
    }

    private static bool StartsSentence(char c) =>
        char.IsUpper(c) || char.IsDigit(c) || c is '"' or '\'' or '“' or '‘' or '(' or '[' or '¿' or '¡' ||
        char.GetUnicodeCategory(c) == UnicodeCategory.OtherLetter;

    private static bool IsClosing(char c) => c is '"' or '\'' or '”' or '’' or ')' or ']' or '»';

    private static bool EndsWithAbbreviationOrInitial(string text, int sentenceStart, int period)
    {
        var wordStart = period;
        while (wordStart > sentenceStart && !char.IsWhiteSpace(text[wordStart - 1]) && text[wordStart - 1] is not ('(' or '"' or '“'))
        {
            wordStart--;
        }
        var word = text.AsSpan(wordStart, period - wordStart);
        if (word.Length == 1 && char.IsLetter(word[0]))
        {
            return true; // an initial: "J. K. Rowling"
        }
        return Abbreviations.GetAlternateLookup<ReadOnlySpan<char>>().Contains(word);
    }

    private static int SkipWhitespace(string text, int i, int end)
    {
        while (i < end && char.IsWhiteSpace(text[i]))
        {
            i++;
        }
        return i;
    }

    /// <summary>Skips "- ", "* ", "• ", "1. ", "12) ", "a) " at the start of a line.</summary>
    private static int SkipListMarker(string text, int start, int end)
    {
        if (start >= end)
        {
            return start;
        }
        var c = text[start];
        if ((c is '-' or '*' or '•' or '+' or '–') && start + 1 < end && char.IsWhiteSpace(text[start + 1]))
        {
            return SkipWhitespace(text, start + 1, end);
        }
        var i = start;
        while (i < end && i - start < 3 && char.IsAsciiDigit(text[i]))
        {
            i++;
        }
        if (i == start && i < end && char.IsAsciiLetterLower(text[i]) && i + 1 < end && text[i + 1] == ')')
        {
            i++;
        }
        if (i > start && i + 1 < end && text[i] is '.' or ')' && char.IsWhiteSpace(text[i + 1]))
        {
            return SkipWhitespace(text, i + 1, end);
        }
        return start;
    }

    private static void Add(string text, int start, int end, List<Range> sentences)
    {
        while (start < end && char.IsWhiteSpace(text[start]))
        {
            start++;
        }
        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }
        if (end > start && HasLetterOrDigit(text.AsSpan(start, end - start)))
        {
            sentences.Add(start..end);
        }
    }

    private static bool HasLetterOrDigit(ReadOnlySpan<char> span)
    {
        foreach (var c in span)
        {
            if (char.IsLetterOrDigit(c))
            {
                return true;
            }
        }
        return false;
    }
}
