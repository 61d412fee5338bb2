using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Riverbed.Tokenization.Text;

/// <summary>
/// A Split/Replace pattern from tokenizer.json: a literal string or an Oniguruma regex. Regexes run on .NET's
/// non-backtracking engine when the pattern allows it (linear time whatever the input), otherwise (lookarounds,
/// backreferences) on the backtracking engine under a match timeout, so a hostile pattern cannot hang a worker.
/// Oniguruma matches code points where .NET matches UTF-16 units, so text with characters beyond the BMP is matched
/// through a projection that stands each such character in for one BMP character of the same general category
/// (\p{L}, \p{N}, \w, . then see one character, as in HF); matches map back to the real offsets.
/// </summary>
internal sealed class TextPattern
{
    [ThreadStatic]
    private static List<(int Start, int End)>? t_matches;

    [ThreadStatic]
    private static Projection? t_projection;

    private static readonly char[] Representatives = FindRepresentatives();

    private readonly string? _literal;
    private readonly Regex? _regex;

    private TextPattern(string source, string? literal, Regex? regex)
    {
        Source = source;
        _literal = literal;
        _regex = regex;
    }

    /// <summary>The pattern as written in tokenizer.json.</summary>
    public string Source { get; }

    /// <summary>Whether the regex runs on the non-backtracking engine.</summary>
    public bool IsLinear => _regex is null || (_regex.Options & RegexOptions.NonBacktracking) != 0;

    public static TextPattern Literal(string text) => new(text, text, null);

    /// <exception cref="ArgumentException">The pattern is not a valid regex (the loader reports it).</exception>
    public static TextPattern FromRegex(string pattern, TimeSpan timeout)
    {
        var translated = Translate(pattern);
        // Oniguruma's default (Ruby) syntax makes ^ and $ line anchors.
        const RegexOptions options = RegexOptions.CultureInvariant | RegexOptions.Multiline;
        try
        {
            return new TextPattern(pattern, null, new Regex(translated, options | RegexOptions.NonBacktracking));
        }
        catch (NotSupportedException)
        {
            return new TextPattern(pattern, null, new Regex(translated, options, timeout));
        }
    }

    /// <summary>
    /// All non-overlapping matches, leftmost first, as [start, end) UTF-16 ranges. The list is reused by the next call
    /// on this thread.
    /// </summary>
    /// <exception cref="TokenizationException">The regex ran past its timeout.</exception>
    public List<(int Start, int End)> FindAll(ReadOnlySpan<char> text)
    {
        var matches = t_matches ??= new List<(int, int)>();
        matches.Clear();
        if (_literal is not null)
        {
            if (_literal.Length == 0)
            {
                return matches;
            }
            var position = 0;
            while (position <= text.Length - _literal.Length)
            {
                var found = text[position..].IndexOf(_literal, StringComparison.Ordinal);
                if (found < 0)
                {
                    break;
                }
                matches.Add((position + found, position + found + _literal.Length));
                position += found + _literal.Length;
            }
            return matches;
        }
        try
        {
            if (text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
            {
                foreach (var match in _regex!.EnumerateMatches(text))
                {
                    matches.Add((match.Index, match.Index + match.Length));
                }
            }
            else
            {
                var projection = t_projection ??= new Projection();
                var projected = projection.Project(text);
                foreach (var match in _regex!.EnumerateMatches(projected))
                {
                    matches.Add((projection.ToOriginal(match.Index), projection.ToOriginal(match.Index + match.Length)));
                }
            }
        }
        catch (RegexMatchTimeoutException error)
        {
            throw new TokenizationException(
                $"The tokenizer's regex /{Source}/ ran past its {error.MatchTimeout.TotalMilliseconds:0} ms limit on a " +
                $"{text.Length}-character piece of text; the pattern backtracks catastrophically on this input. " +
                "Fix the pattern in tokenizer.json or raise TokenizerOptions.RegexTimeout.", error);
        }
        return matches;
    }

    // One BMP character (above Latin-1, so unlikely to be named in a pattern) per general category.
    private static char[] FindRepresentatives()
    {
        var representatives = new char[32];
        for (var cp = 0xFFFF; cp >= 0x100; cp--)
        {
            if (cp is < 0xD800 or > 0xDFFF)
            {
                representatives[(int)CharUnicodeInfo.GetUnicodeCategory(cp)] = (char)cp;
            }
        }
        return representatives;
    }

    /// <summary>The text with every surrogate pair replaced by one representative character, and the way back.</summary>
    private sealed class Projection
    {
        private char[] _chars = new char[256];
        private int[] _original = new int[257];
        private int _length;
        private int _originalLength;

        public ReadOnlySpan<char> Project(ReadOnlySpan<char> text)
        {
            if (_chars.Length < text.Length)
            {
                _chars = new char[text.Length * 2];
                _original = new int[(text.Length * 2) + 1];
            }
            _length = 0;
            _originalLength = text.Length;
            for (var i = 0; i < text.Length;)
            {
                _original[_length] = i;
                var c = text[i];
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    var category = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(c, text[i + 1]));
                    _chars[_length++] = Representatives[(int)category];
                    i += 2;
                }
                else
                {
                    _chars[_length++] = c;
                    i++;
                }
            }
            _original[_length] = text.Length;
            return _chars.AsSpan(0, _length);
        }

        public int ToOriginal(int index) => index >= _length ? _originalLength : _original[index];
    }

    // Oniguruma's \w is letters, marks, decimal digits and connectors; .NET's leaves out spacing and enclosing marks.
    private static string Translate(string pattern)
    {
        const string Word = @"\p{L}\p{M}\p{Nd}\p{Pc}";
        var builder = new StringBuilder(pattern.Length + 16);
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[i + 1];
                if (next == 'w')
                {
                    builder.Append(inClass ? Word : "[" + Word + "]");
                }
                else if (next == 'W' && !inClass)
                {
                    builder.Append("[^" + Word + "]");
                }
                else
                {
                    builder.Append(c).Append(next);
                }
                i++;
                continue;
            }
            if (c == '[' && !inClass)
            {
                inClass = true;
            }
            else if (c == ']' && inClass)
            {
                inClass = false;
            }
            builder.Append(c);
        }
        return builder.ToString();
    }
}
