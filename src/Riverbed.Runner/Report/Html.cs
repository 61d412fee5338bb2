using System.Globalization;
using System.Text;

namespace Riverbed.Runner.Report;

/// <summary>
/// Escaping for text that ends up in the report. Every string that comes from a dataset, a file or a command line goes
/// through here, so no input can open a tag, close an attribute or start a script.
/// </summary>
internal static class Html
{
    /// <summary>
    /// Appends <paramref name="text"/> as HTML text or attribute content: <c>&amp; &lt; &gt; " '</c> become entities, and
    /// characters a reader could not see or that HTML would alter (control characters other than tab and newline, lone
    /// surrogates, U+FFFE/U+FFFF) become a visible <c>U+XXXX</c> marker. The marker is plain text, so this is also safe
    /// inside attributes.
    /// </summary>
    public static void AppendEscaped(StringBuilder output, ReadOnlySpan<char> text)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            string? replacement = c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => null,
            };
            if (replacement is null)
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                    continue;
                }
                if (!IsInvisibleOrUnsafe(c))
                {
                    continue;
                }
                replacement = "[U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture) + "]";
            }
            output.Append(text[start..i]).Append(replacement);
            start = i + 1;
        }
        output.Append(text[start..]);
    }

    public static string Escape(ReadOnlySpan<char> text)
    {
        var output = new StringBuilder(text.Length + 16);
        AppendEscaped(output, text);
        return output.ToString();
    }

    /// <summary>A number as the report shows it: invariant culture, thousands separators for counts.</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A score with three decimals (a minus sign, not a hyphen), or an em dash when missing.</summary>
    public static string Score(double? value) => value switch
    {
        null => "—",
        { } v when double.IsNaN(v) => "NaN",
        { } v => v.ToString("0.000", CultureInfo.InvariantCulture).Replace('-', '−'),
    };

    public static string Percent(long part, long whole) =>
        whole == 0 ? "—" : (100.0 * part / whole).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static bool IsInvisibleOrUnsafe(char c) =>
        (c < 0x20 && c is not '\n' and not '\t')
        || (c >= 0x7F && c <= 0x9F)
        || char.IsSurrogate(c)
        || c is '\uFFFE' or '\uFFFF';
}

/// <summary>
/// Builds markup. Element and attribute names are constants written by this code; every value goes through
/// <see cref="Html.AppendEscaped"/>. <see cref="Raw"/> is for markup this code wrote itself, never for data.
/// </summary>
internal sealed class HtmlBuilder
{
    private readonly StringBuilder _output;

    public HtmlBuilder(int capacity = 1 << 16) => _output = new StringBuilder(capacity);

    public int Length => _output.Length;

    /// <summary>Opens an element; attributes are name/value pairs, a null value leaves the attribute out.</summary>
    public HtmlBuilder Open(string element, params (string Name, string? Value)[] attributes)
    {
        _output.Append('<').Append(element);
        foreach (var (name, value) in attributes)
        {
            if (value is null)
            {
                continue;
            }
            _output.Append(' ').Append(name).Append("=\"");
            Html.AppendEscaped(_output, value);
            _output.Append('"');
        }
        _output.Append('>');
        return this;
    }

    /// <summary>An element with no content, self-closed so the document also parses as XML (tests read it that way).</summary>
    public HtmlBuilder Void(string element, params (string Name, string? Value)[] attributes)
    {
        Open(element, attributes);
        _output.Length--;
        _output.Append(" />");
        return this;
    }

    public HtmlBuilder Close(string element)
    {
        _output.Append("</").Append(element).Append('>');
        return this;
    }

    public HtmlBuilder Text(ReadOnlySpan<char> text)
    {
        Html.AppendEscaped(_output, text);
        return this;
    }

    /// <summary>An element holding only text.</summary>
    public HtmlBuilder Element(string element, string? text, params (string Name, string? Value)[] attributes)
    {
        Open(element, attributes);
        Text(text ?? string.Empty);
        return Close(element);
    }

    public HtmlBuilder Raw(string markup)
    {
        _output.Append(markup);
        return this;
    }

    public HtmlBuilder Line()
    {
        _output.Append('\n');
        return this;
    }

    public override string ToString() => _output.ToString();
}
