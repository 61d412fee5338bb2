using System.Globalization;
using System.Runtime.CompilerServices;

namespace Riverbed.Tokenization.Unicode;

/// <summary>
/// The character predicates HF tokenizers uses, each named after the Rust function or regex class it stands for.
/// Each answers from the Unicode version its Rust counterpart uses: BERT's punctuation, control and accent tests from
/// Unicode 8.0, numbers and lowercasing from Unicode 17.0 (both pinned in <see cref="UnicodePropertyData"/>); letters,
/// numbers and word characters of the regex engines from .NET's data, which agrees with Oniguruma's on every code
/// point. Code points, not UTF-16 units: callers pass a whole scalar value.
/// </summary>
internal static class CharacterClasses
{
    private const byte Whitespace = 1, Letter = 2, Number = 4, Punctuation = 8, BertControl = 16, Word = 32;
    private static readonly byte[] Latin1 = BuildLatin1();

    /// <summary>Rust's <c>char::is_whitespace</c>: the Unicode White_Space property (also onig's <c>\s</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsWhitespace(int cp) =>
        cp < 0x100 ? (Latin1[cp] & Whitespace) != 0 : cp >= 0x1680 && IsWhitespaceSlow(cp);

    private static bool IsWhitespaceSlow(int cp) =>
        cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
        || cp == 0x205F || cp == 0x3000;

    /// <summary>onig's <c>\p{L}</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsLetter(int cp) => cp < 0x100 ? (Latin1[cp] & Letter) != 0 : IsLetter(Category(cp));

    /// <summary>onig's <c>\p{N}</c> (Nd, Nl, No).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsNumber(int cp) => cp < 0x100 ? (Latin1[cp] & Number) != 0 : IsNumber(Category(cp));

    /// <summary>Rust's <c>char::is_numeric</c> (Nd, Nl, No of Unicode 17.0).</summary>
    public static bool IsNumeric(int cp) =>
        cp < 0x100 ? (Latin1[cp] & Number) != 0 : UnicodePropertyData.Numbers.Contains(cp);

    /// <summary>
    /// BERT's punctuation test: ASCII punctuation (which includes symbols such as <c>$</c>, <c>+</c>, <c>^</c>) or
    /// any Unicode punctuation category.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsBertPunctuation(int cp) =>
        cp < 0x100 ? (Latin1[cp] & Punctuation) != 0 : UnicodePropertyData.Punctuation.Contains(cp);

    /// <summary>BERT's control test: Cc, Cf or Co, except tab, newline and carriage return.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsBertControl(int cp) =>
        cp < 0x100 ? (Latin1[cp] & BertControl) != 0 : UnicodePropertyData.ControlsFormatsPrivateUse.Contains(cp);

    /// <summary>Nonspacing mark (Mn, Unicode 8.0), what BERT's accent stripping removes after NFD.</summary>
    public static bool IsNonspacingMark(int cp) => cp >= 0x300 && UnicodePropertyData.NonspacingMarks.Contains(cp);

    /// <summary>
    /// The Rust regex crate's Unicode <c>\w</c>: Alphabetic, marks, decimal digits, connector punctuation and the
    /// joiners. Alphabetic is letters, letter numbers and the Other_Alphabetic symbols (circled and squared letters).
    /// </summary>
    public static bool IsWordCharacter(int cp)
    {
        if (cp < 0x100)
        {
            return (Latin1[cp] & Word) != 0;
        }
        if (cp is 0x200C or 0x200D or (>= 0x24B6 and <= 0x24E9) or (>= 0x1F130 and <= 0x1F149)
            or (>= 0x1F150 and <= 0x1F169) or (>= 0x1F170 and <= 0x1F189))
        {
            return true;
        }
        var category = Category(cp);
        return IsLetter(category) || category is UnicodeCategory.LetterNumber or UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation;
    }

    /// <summary>
    /// Rust's <c>char::to_lowercase</c> (Unicode 17.0): the full lowercase mapping, which differs from the simple one
    /// only for U+0130 (İ → i + U+0307, returned through <paramref name="second"/>); 0 there means one character.
    /// </summary>
    public static int ToLower(int cp, out int second)
    {
        second = 0;
        if (cp < 0x80)
        {
            return cp is >= 'A' and <= 'Z' ? cp + 32 : cp;
        }
        if (cp == 0x130)
        {
            second = 0x307;
            return 'i';
        }
        return UnicodePropertyData.Lowercase.TryGetValue(cp, out var lower) ? lower : cp;
    }

    /// <summary>The general category; surrogate code units (never whole scalars here) count as unassigned.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UnicodeCategory Category(int cp) => CharUnicodeInfo.GetUnicodeCategory(cp);

    private static bool IsLetter(UnicodeCategory category) => category <= UnicodeCategory.OtherLetter;

    private static bool IsNumber(UnicodeCategory category) =>
        category is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    private static bool IsPunctuation(UnicodeCategory category) =>
        category is >= UnicodeCategory.ConnectorPunctuation and <= UnicodeCategory.OtherPunctuation;

    private static bool IsOther(UnicodeCategory category) =>
        category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse;

    private static byte[] BuildLatin1()
    {
        var table = new byte[0x100];
        for (var cp = 0; cp < table.Length; cp++)
        {
            var category = Category(cp);
            byte flags = 0;
            if (cp is >= 9 and <= 13 or 0x20 or 0x85 or 0xA0)
            {
                flags |= Whitespace;
            }
            if (IsLetter(category))
            {
                flags |= Letter | Word;
            }
            if (IsNumber(category))
            {
                flags |= Number;
            }
            if (category is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation
                or UnicodeCategory.NonSpacingMark)
            {
                flags |= Word;
            }
            if ((cp < 0x80 && char.IsAsciiLetterOrDigit((char)cp) == false && cp > 0x20 && cp < 0x7F)
                || IsPunctuation(category))
            {
                flags |= Punctuation;
            }
            if (cp is not ('\t' or '\n' or '\r') && IsOther(category))
            {
                flags |= BertControl;
            }
            table[cp] = flags;
        }
        return table;
    }
}
