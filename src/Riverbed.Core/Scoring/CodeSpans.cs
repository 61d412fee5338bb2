namespace Riverbed.Scoring;

/// <summary>
/// Finds the parts of a turn that are code or markup rather than prose: what fill-and-compare must not mask (a
/// replaced identifier or tag says nothing about facts, and the NLI model reads it as noise) and what is never an
/// entity. Rules (Markdown's, simplified):
/// <list type="bullet">
/// <item>fenced blocks: a line that starts (after at most three spaces) with three or more backticks or tildes, up to
/// the line that closes it with at least as many of the same character, or the end of the text;</item>
/// <item>indented blocks: lines indented by four spaces or a tab that follow a blank line (or start the text), with the
/// indented and blank lines after them, unless the line is a list item ("- ", "* ", "1. ", which nest lists);</item>
/// <item>inline code: a run of backticks up to the next run of the same length on the same line;</item>
/// <item>markup: HTML/XML tags and comments (<c>&lt;div class="x"&gt;</c>, <c>&lt;/p&gt;</c>, <c>&lt;br/&gt;</c>,
/// <c>&lt;!-- … --&gt;</c>), and the whole content of <c>code</c>, <c>pre</c>, <c>script</c> and <c>style</c> elements.</item>
/// </list>
/// Ranges are UTF-16, sorted and disjoint.
/// </summary>
public static class CodeSpans
{
    private static readonly string[] RawElements = ["code", "pre", "script", "style"];

    public static IReadOnlyList<Range> Find(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var found = new List<(int Start, int End)>();
        Blocks(text, found);
        Inline(text, found);
        found.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.End.CompareTo(a.End));
        var merged = new List<Range>();
        var (start, end) = (-1, -1);
        foreach (var (s, e) in found)
        {
            if (s < end)
            {
                end = Math.Max(end, e);
                continue;
            }
            if (end > start)
            {
                merged.Add(start..end);
            }
            (start, end) = (s, e);
        }
        if (end > start)
        {
            merged.Add(start..end);
        }
        return merged;
    }

    /// <summary>True when [start, end) shares a character with one of <paramref name="code"/> (as <see cref="Find"/> gives them).</summary>
    public static bool Overlaps(IReadOnlyList<Range> code, int start, int end)
    {
        ArgumentNullException.ThrowIfNull(code);
        foreach (var range in code)
        {
            if (range.Start.Value >= end)
            {
                return false;
            }
            if (range.End.Value > start && end > start)
            {
                return true;
            }
        }
        return false;
    }

    private static void Blocks(string text, List<(int, int)> found)
    {
        var lineStart = 0;
        var previousBlank = true;
        var inIndented = false;
        var indentedStart = 0;
        var indentedEnd = 0;
        while (lineStart < text.Length)
        {
            var lineEnd = LineEnd(text, lineStart);
            var line = text.AsSpan(lineStart, lineEnd - lineStart);
            var blank = line.IsWhiteSpace();
            if (Fence(line) is { } fence)
            {
                CloseIndented();
                var close = lineEnd;
                var next = Next(text, lineEnd);
                var closed = false;
                while (next < text.Length)
                {
                    var end = LineEnd(text, next);
                    var candidate = text.AsSpan(next, end - next).TrimStart(' ');
                    close = end;
                    next = Next(text, end);
                    if (candidate.Length >= fence.Length && candidate.StartsWith(fence) && candidate.TrimStart(fence[0]).IsWhiteSpace())
                    {
                        closed = true;
                        break;
                    }
                }
                found.Add((lineStart, closed ? close : text.Length));
                lineStart = closed ? next : text.Length;
                previousBlank = false;
                continue;
            }
            var indented = (line.StartsWith("    ") || line.StartsWith("\t")) && !blank && !ListItem(line.TrimStart());
            if (indented && (previousBlank || inIndented))
            {
                if (!inIndented)
                {
                    inIndented = true;
                    indentedStart = lineStart;
                }
                indentedEnd = lineEnd;
            }
            else if (!blank)
            {
                CloseIndented();
            }
            previousBlank = blank;
            lineStart = Next(text, lineEnd);
        }
        CloseIndented();

        void CloseIndented()
        {
            if (inIndented)
            {
                found.Add((indentedStart, indentedEnd));
                inIndented = false;
            }
        }
    }

    /// <summary>The opening fence of a fenced block ("```", "~~~~", …), or null.</summary>
    private static string? Fence(ReadOnlySpan<char> line)
    {
        var indent = 0;
        while (indent < line.Length && indent < 4 && line[indent] == ' ')
        {
            indent++;
        }
        if (indent > 3 || indent >= line.Length || line[indent] is not ('`' or '~'))
        {
            return null;
        }
        var c = line[indent];
        var n = 0;
        while (indent + n < line.Length && line[indent + n] == c)
        {
            n++;
        }
        // A backtick fence's info string may not hold backticks (that would be inline code on one line).
        return n >= 3 && !(c == '`' && line[(indent + n)..].Contains('`')) ? new string(c, n) : null;
    }

    private static bool ListItem(ReadOnlySpan<char> line)
    {
        if (line.Length >= 2 && line[0] is '-' or '*' or '+' or '•' && line[1] == ' ')
        {
            return true;
        }
        var digits = 0;
        while (digits < line.Length && char.IsAsciiDigit(line[digits]))
        {
            digits++;
        }
        return digits > 0 && digits + 1 < line.Length && line[digits] is '.' or ')' && line[digits + 1] == ' ';
    }

    private static void Inline(string text, List<(int Start, int End)> found)
    {
        var i = 0;
        while (i < text.Length)
        {
            if (Inside(found, i) is { } blockEnd)
            {
                i = blockEnd;
                continue;
            }
            var c = text[i];
            if (c == '`')
            {
                var run = Run(text, i, '`');
                var close = FindRun(text, i + run, run);
                if (close >= 0)
                {
                    found.Add((i, close + run));
                    i = close + run;
                    continue;
                }
                i += run;
                continue;
            }
            if (c == '<' && Tag(text, i) is { } tag)
            {
                var end = tag.End;
                if (!tag.Closing && RawElements.Contains(tag.Name, StringComparer.OrdinalIgnoreCase))
                {
                    var closing = text.IndexOf("</" + tag.Name, end, StringComparison.OrdinalIgnoreCase);
                    if (closing >= 0 && Tag(text, closing) is { } closer)
                    {
                        end = closer.End;
                    }
                }
                found.Add((i, end));
                i = end;
                continue;
            }
            i++;
        }
    }

    private static int? Inside(List<(int Start, int End)> blocks, int position)
    {
        foreach (var (start, end) in blocks)
        {
            if (position >= start && position < end)
            {
                return end;
            }
        }
        return null;
    }

    /// <summary>An HTML/XML tag or comment starting at <paramref name="at"/> ('&lt;'), on one line.</summary>
    private static (int End, string Name, bool Closing)? Tag(string text, int at)
    {
        if (string.CompareOrdinal(text, at, "<!--", 0, 4) == 0)
        {
            var close = text.IndexOf("-->", at + 4, StringComparison.Ordinal);
            return close < 0 ? null : (close + 3, "!--", false);
        }
        var i = at + 1;
        var closing = i < text.Length && text[i] == '/';
        if (closing)
        {
            i++;
        }
        var nameStart = i;
        if (i >= text.Length || !char.IsAsciiLetter(text[i]))
        {
            return null;
        }
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '-' or ':' or '_'))
        {
            i++;
        }
        var name = text[nameStart..i];
        // After the name: attributes, an optional '/', then '>' — all on one line, no second '<'. "a < b > c" has a
        // space after '<' and is not a tag; "<b>" is.
        if (i < text.Length && text[i] is not (' ' or '>' or '/' or '\t'))
        {
            return null;
        }
        while (i < text.Length && text[i] is not ('>' or '<' or '\n'))
        {
            i++;
        }
        return i < text.Length && text[i] == '>' ? (i + 1, name, closing) : null;
    }

    private static int Run(string text, int at, char c)
    {
        var n = 0;
        while (at + n < text.Length && text[at + n] == c)
        {
            n++;
        }
        return n;
    }

    /// <summary>The next run of exactly <paramref name="length"/> backticks on the same line, or −1.</summary>
    private static int FindRun(string text, int from, int length)
    {
        var i = from;
        while (i < text.Length && text[i] != '\n')
        {
            if (text[i] == '`')
            {
                var run = Run(text, i, '`');
                if (run == length)
                {
                    return i;
                }
                i += run;
                continue;
            }
            i++;
        }
        return -1;
    }

    private static int LineEnd(string text, int start)
    {
        var end = text.IndexOf('\n', start);
        return end < 0 ? text.Length : end;
    }

    private static int Next(string text, int lineEnd) => Math.Min(text.Length, lineEnd + 1);
}
