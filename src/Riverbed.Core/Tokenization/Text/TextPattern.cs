using System.Text;
using System.Text.RegularExpressions;

namespace Riverbed.Tokenization.Text;

/// <summary>
/// A Split/Replace pattern from tokenizer.json: a literal string or an Oniguruma regex. Regexes run on .NET's
/// non-backtracking engine when the pattern allows it (linear time whatever the input), otherwise (lookarounds,
/// backreferences) on the backtracking engine under a match timeout, so a hostile pattern cannot hang a worker.
/// </summary>
internal sealed class TextPattern
{
    [ThreadStatic]
    private static List<(int Start, int End)>? t_matches;

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
            foreach (var match in _regex!.EnumerateMatches(text))
            {
                matches.Add((match.Index, match.Index + match.Length));
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
