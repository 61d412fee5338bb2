using System.Collections.Frozen;
using System.Globalization;

namespace Riverbed.Scoring;

/// <summary>What <see cref="LanguageCheck"/> found in a turn's prose.</summary>
/// <param name="English">False when the prose is judged not English.</param>
/// <param name="Letters">Letters outside code.</param>
/// <param name="LatinShare">Share of those letters in Latin script (A–Z, Latin-1 and Latin Extended).</param>
/// <param name="Words">Words outside code (runs of letters).</param>
/// <param name="EnglishShare">Share of those words that are common English function words.</param>
/// <param name="OtherShare">Share of those words that are common function words of other European languages.</param>
public sealed record LanguageVerdict(bool English, int Letters, double LatinShare, int Words, double EnglishShare, double OtherShare)
{
    /// <summary>Why the text was judged not English, for the skip notes ("94 % of letters not in Latin script").</summary>
    public string Reason => LatinShare < LanguageCheck.MinLatinShare
        ? string.Create(CultureInfo.InvariantCulture, $"{1 - LatinShare:P0} of letters not in Latin script")
        : string.Create(CultureInfo.InvariantCulture, $"{OtherShare:P0} of {Words} words are function words of other languages, {EnglishShare:P0} English ones");
}

/// <summary>
/// A cheap check that a turn's prose is in the models' language (English), so that text in another language is not
/// scored as if it were: the demo and the default models are English, and their fills and NLI verdicts on other
/// languages are noise. Code (<see cref="CodeSpans"/>) is left out first. Text with fewer than
/// <see cref="MinLetters"/> letters is too short to judge and passes. Otherwise it fails when under
/// <see cref="MinLatinShare"/> of its letters are Latin script (Chinese, Russian, Arabic, …), or, with at least
/// <see cref="MinWords"/> words, when the function words of other European languages (Spanish, French, German,
/// Italian, Portuguese, Dutch: "el", "und", "les", "che", …) are at least <see cref="MinOtherShare"/> of the words and
/// outnumber the English ones. Prose in those languages runs at 25–45 % of this list (counted in lower case only);
/// English prose at 30–50 % English function words and close to 0 % of the others; terse English ("Fact number 3
/// holds.") has few of either and passes, which a bare English share would not; an English list of French names
/// ("Les 400 Coups", "Festival Saveurs et Saisons", Alpaca row 19) stays under 20 %.
/// </summary>
public static class LanguageCheck
{
    public const int MinLetters = 40;
    public const double MinLatinShare = 0.5;
    public const int MinWords = 12;
    public const double MinOtherShare = 0.2;

    // Frequent English function words that are not also frequent words of the other Latin-script languages (no "a",
    // "in", "de", "die", "on" …), so the share separates English from Spanish, French, German, Italian, Portuguese.
    private static readonly FrozenSet<string> EnglishFunctionWords = new[]
    {
        "the", "and", "of", "to", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those",
        "with", "for", "from", "by", "at", "as", "or", "but", "not", "you", "your", "we", "our", "they", "their", "he",
        "she", "his", "her", "them", "which", "who", "what", "when", "where", "how", "why", "can", "could", "will",
        "would", "should", "have", "has", "had", "do", "does", "did", "if", "then", "than", "there", "here", "an", "on",
        "also", "more", "most", "some", "any", "all", "each", "other", "into", "about", "i", "my", "me", "so", "such",
        "may", "might", "must", "just", "only", "very", "one", "after", "before", "because", "while", "over", "under",
    }.ToFrozenSet(StringComparer.Ordinal);

    // Frequent function words of Spanish, French, German, Italian, Portuguese and Dutch that English prose does not use
    // (no "a", "in", "to", "no", "also", nor name particles such as "de", "da", "van", "von", nor one-letter words
    // such as "y", which are variables as often as words).
    private static readonly FrozenSet<string> OtherFunctionWords = new[]
    {
        "el", "la", "los", "las", "del", "que", "en", "se", "por", "con", "una", "un", "para", "es", "su", "al", "lo",
        "como", "más", "pero", "sus", "le", "les", "des", "et", "est", "une", "du", "au", "pour", "dans", "sur", "pas",
        "qui", "ne", "ce", "il", "elle", "nous", "vous", "der", "die", "das", "und", "ist", "nicht", "ein", "eine", "zu",
        "den", "mit", "sich", "auf", "für", "dem", "im", "auch", "wird", "sind", "che", "non", "gli", "della", "sono",
        "não", "em", "os", "uma", "com", "ao", "na", "het", "een", "ik", "je", "niet", "zijn", "op", "dat", "te", "está",
        "muy", "mais", "où", "aux", "ces", "einen", "wurde", "oder", "aber", "wie", "cuando", "fue", "hay", "esta", "este",
    }.ToFrozenSet(StringComparer.Ordinal);

    public static LanguageVerdict Assess(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var code = CodeSpans.Find(text);
        var letters = 0;
        var latin = 0;
        var words = 0;
        var function = 0;
        var other = 0;
        var c = 0;
        var i = 0;
        while (i < text.Length)
        {
            if (c < code.Count && i >= code[c].Start.Value)
            {
                i = Math.Max(i, code[c].End.Value);
                c++;
                continue;
            }
            if (!char.IsLetter(text[i]))
            {
                i++;
                continue;
            }
            var start = i;
            while (i < text.Length && char.IsLetter(text[i]) && (c >= code.Count || i < code[c].Start.Value))
            {
                letters++;
                latin += IsLatin(text[i]) ? 1 : 0;
                i++;
            }
            words++;
            if (i - start <= 8)
            {
                var word = text[start..i];
                var lower = word.ToLowerInvariant();
                function += EnglishFunctionWords.Contains(lower) ? 1 : 0;
                // Only in lower case: capitalised, they are mostly parts of names ("Les 400 Coups", "La Banquise") in
                // English text; other languages' prose uses them in lower case all along.
                other += word == lower && OtherFunctionWords.Contains(word) ? 1 : 0;
            }
        }
        var latinShare = letters == 0 ? 1 : (double)latin / letters;
        var englishShare = words == 0 ? 0 : (double)function / words;
        var otherShare = words == 0 ? 0 : (double)other / words;
        var english = letters < MinLetters
            || (latinShare >= MinLatinShare && (words < MinWords || otherShare < MinOtherShare || other <= function));
        return new LanguageVerdict(english, letters, latinShare, words, englishShare, otherShare);
    }

    private static bool IsLatin(char c) => c < 0x250 || (c >= 0x1E00 && c < 0x1F00);
}
