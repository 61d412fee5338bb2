using System.Collections.Frozen;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring.EntityPrecision;

/// <summary>
/// The entity heuristic as it was before issue 17 (commit fb8be9a), frozen here so that its precision on the labelled
/// sample can be measured beside the current one. Not used by Riverbed itself.
/// Finds entity-like spans when no NER model is given. Documented rules, in order of precedence:
/// <list type="number">
/// <item>dates: a month name with an adjacent day and/or year ("July 4, 1776", "4 July 1776", "March 2020"),
/// ISO or slashed dates ("1776-07-04", "07/04/1776"), and four-digit years 1000–2099 on their own;</item>
/// <item>quantities: a number followed by a unit or scale word ("3.5 km", "12 million", "40 percent", "70%") or
/// preceded by a currency sign ("$5", "€12.50");</item>
/// <item>numbers: any other word with a digit ("42", "3.14", "1,000", "10th", "1990s");</item>
/// <item>names: runs of capitalised words ("Eiffel Tower", "University of Oxford": lower-case "of", "de", "von",
/// "van", "da", "del", "la", "the" may join capitalised words), except that a run's first word is dropped when it
/// starts a sentence (it may be capitalised only for that reason), and the pronoun "I" is never a name.</item>
/// </list>
/// Spans never overlap; they are returned in text order.
/// </summary>
internal static class EntityHeuristicBefore
{
    private static readonly FrozenSet<string> Months = new[]
    {
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenSet<string> Units = new[]
    {
        "%", "percent", "per", "thousand", "million", "billion", "trillion", "hundred", "dozen",
        "km", "m", "cm", "mm", "kg", "g", "mg", "lb", "lbs", "oz", "mi", "ft", "in", "l", "ml",
        "mph", "kph", "km/h", "°c", "°f", "c", "f", "k", "w", "kw", "mw", "gw", "v", "hz", "mhz", "ghz", "gb", "mb", "tb",
        "kilometers", "kilometres", "meters", "metres", "miles", "feet", "inches", "yards", "kilograms", "grams",
        "pounds", "ounces", "tons", "tonnes", "liters", "litres", "gallons", "degrees", "seconds", "minutes", "hours",
        "days", "weeks", "months", "years", "decades", "centuries", "dollars", "euros", "cents", "people",
        "kilometer", "kilometre", "meter", "metre", "mile", "foot", "inch", "kilogram", "gram", "pound", "ton",
        "liter", "litre", "gallon", "degree", "second", "minute", "hour", "day", "week", "month", "year", "dollar", "euro",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenSet<string> NameJoiners = new[] { "of", "de", "von", "van", "da", "del", "la", "the", "du", "di", "al", "bin", "le" }
        .ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string> Honorifics = new[] { "mr", "mrs", "ms", "dr", "prof", "sir", "st", "mt", "jr", "sr" }
        .ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private readonly record struct Word(int Start, int End, bool StartsSentence);

    public static IReadOnlyList<EntitySpan> Find(string text)
    {
        var words = Words(text);
        var entities = new List<EntitySpan>();
        var i = 0;
        while (i < words.Count)
        {
            var consumed = TryDate(text, words, i, entities)
                ?? TryQuantityOrNumber(text, words, i, entities)
                ?? TryName(text, words, i, entities)
                ?? 1;
            i += consumed;
        }
        return entities;
    }

    private static List<Word> Words(string text)
    {
        var sentenceStarts = new HashSet<int>();
        foreach (var sentence in SentenceSplitter.Split(text))
        {
            sentenceStarts.Add(sentence.Start.Value);
        }
        var words = new List<Word>();
        var i = 0;
        while (i < text.Length)
        {
            if (!IsWordChar(text[i]) && !IsCurrency(text[i]))
            {
                i++;
                continue;
            }
            var start = i;
            i++;
            while (i < text.Length)
            {
                if (IsWordChar(text[i]))
                {
                    i++;
                }
                else if (text[i] is '.' or ',' or '-' or '/' or ':' or '\'' or '’' && i + 1 < text.Length && IsWordChar(text[i + 1]) && IsWordChar(text[i - 1]))
                {
                    i++; // "3.14", "1,000", "U.S", "well-known", "07/04", "O'Brien"
                }
                else if (text[i] == '%')
                {
                    i++;
                    break;
                }
                else
                {
                    break;
                }
            }
            var wordStartsSentence = sentenceStarts.Contains(start) || (start > 0 && sentenceStarts.Contains(start - 1) && !IsWordChar(text[start - 1]));
            words.Add(new Word(start, i, wordStartsSentence));
        }
        return words;
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c);

    private static bool IsCurrency(char c) => c is '$' or '€' or '£' or '¥' or '₹';

    private static ReadOnlySpan<char> Text(string text, Word word) => text.AsSpan(word.Start, word.End - word.Start);

    private static bool HasDigit(ReadOnlySpan<char> span)
    {
        foreach (var c in span)
        {
            if (char.IsAsciiDigit(c))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsYear(ReadOnlySpan<char> span) =>
        span.Length == 4 && int.TryParse(span, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var year) && year is >= 1000 and <= 2099;

    private static bool IsDayNumber(ReadOnlySpan<char> span)
    {
        var digits = span;
        foreach (var suffix in new[] { "st", "nd", "rd", "th" })
        {
            if (digits.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                digits = digits[..^suffix.Length];
                break;
            }
        }
        return digits.Length is 1 or 2 && int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var day) && day is >= 1 and <= 31;
    }

    private static bool IsMonth(string text, Word word)
    {
        var span = Text(text, word);
        return char.IsUpper(span[0]) && Months.GetAlternateLookup<ReadOnlySpan<char>>().Contains(span);
    }

    private static bool IsNumericDate(ReadOnlySpan<char> span)
    {
        // 1776-07-04, 07/04/1776, 4/7/76
        var separators = 0;
        foreach (var c in span)
        {
            if (c is '-' or '/')
            {
                separators++;
            }
            else if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return separators == 2;
    }

    private static int? TryDate(string text, List<Word> words, int i, List<EntitySpan> entities)
    {
        var word = Text(text, words[i]);
        if (IsNumericDate(word))
        {
            entities.Add(new EntitySpan(words[i].Start..words[i].End, EntityKinds.Date));
            return 1;
        }
        if (IsMonth(text, words[i]))
        {
            var end = i;
            if (end + 1 < words.Count && IsDayNumber(Text(text, words[end + 1])))
            {
                end++;
            }
            if (end + 1 < words.Count && IsYear(Text(text, words[end + 1])))
            {
                end++;
            }
            var start = i;
            if (i > 0 && IsDayNumber(Text(text, words[i - 1])) && entities.Count > 0 && entities[^1].Range.End.Value == words[i - 1].End)
            {
                // "4 July 1776": the day was taken as a number a moment ago; fold it into the date.
                start = i - 1;
                entities.RemoveAt(entities.Count - 1);
            }
            if (end == i && start == i)
            {
                // A bare month name ("May", "March") is too ambiguous; treat it as a possible name.
                return null;
            }
            entities.Add(new EntitySpan(words[start].Start..words[end].End, EntityKinds.Date));
            return end - i + 1;
        }
        if (IsYear(word))
        {
            entities.Add(new EntitySpan(words[i].Start..words[i].End, EntityKinds.Date));
            return 1;
        }
        return null;
    }

    private static int? TryQuantityOrNumber(string text, List<Word> words, int i, List<EntitySpan> entities)
    {
        var word = Text(text, words[i]);
        if (!HasDigit(word))
        {
            return null;
        }
        var currency = IsCurrency(word[0]) || (words[i].Start > 0 && IsCurrency(text[words[i].Start - 1]));
        var start = words[i].Start > 0 && IsCurrency(text[words[i].Start - 1]) ? words[i].Start - 1 : words[i].Start;
        if (word.EndsWith('%') || currency)
        {
            var end = i;
            if (end + 1 < words.Count && IsScaleWord(Text(text, words[end + 1])))
            {
                end++;
            }
            entities.Add(new EntitySpan(start..words[end].End, EntityKinds.Quantity));
            return end - i + 1;
        }
        if (i + 1 < words.Count && Units.GetAlternateLookup<ReadOnlySpan<char>>().Contains(Text(text, words[i + 1]))
            && OnlySpacesBetween(text, words[i].End, words[i + 1].Start))
        {
            entities.Add(new EntitySpan(start..words[i + 1].End, EntityKinds.Quantity));
            return 2;
        }
        entities.Add(new EntitySpan(start..words[i].End, EntityKinds.Number));
        return 1;
    }

    private static bool IsScaleWord(ReadOnlySpan<char> word) =>
        word.Equals("thousand", StringComparison.OrdinalIgnoreCase) || word.Equals("million", StringComparison.OrdinalIgnoreCase)
        || word.Equals("billion", StringComparison.OrdinalIgnoreCase) || word.Equals("trillion", StringComparison.OrdinalIgnoreCase);

    private static bool OnlySpacesBetween(string text, int from, int to)
    {
        for (var k = from; k < to; k++)
        {
            if (text[k] != ' ')
            {
                return false;
            }
        }
        return to - from <= 1;
    }

    private static bool IsCapitalised(ReadOnlySpan<char> word) => word.Length > 0 && char.IsUpper(word[0]) && !word.Equals("I", StringComparison.Ordinal);

    private static bool StartsDate(string text, List<Word> words, int k) =>
        IsMonth(text, words[k]) && k + 1 < words.Count && (IsDayNumber(Text(text, words[k + 1])) || IsYear(Text(text, words[k + 1])));

    private static int? TryName(string text, List<Word> words, int i, List<EntitySpan> entities)
    {
        if (!IsCapitalised(Text(text, words[i])))
        {
            return null;
        }
        if (Honorifics.GetAlternateLookup<ReadOnlySpan<char>>().Contains(Text(text, words[i])))
        {
            return 1; // "Mr." is part of how a name is written, not a name of its own
        }
        var end = i;
        var k = i + 1;
        while (k < words.Count && OnlySpacesBetween(text, words[k - 1].End, words[k].Start) && !words[k].StartsSentence)
        {
            var next = Text(text, words[k]);
            if (StartsDate(text, words, k))
            {
                break;
            }
            if (IsCapitalised(next) && !HasDigit(next))
            {
                end = k;
                k++;
            }
            else if (NameJoiners.GetAlternateLookup<ReadOnlySpan<char>>().Contains(next) && k + 1 < words.Count
                && IsCapitalised(Text(text, words[k + 1])) && OnlySpacesBetween(text, words[k].End, words[k + 1].Start))
            {
                k++;
            }
            else
            {
                break;
            }
        }
        var first = words[i].StartsSentence ? i + 1 : i;
        while (first <= end && NameJoiners.GetAlternateLookup<ReadOnlySpan<char>>().Contains(Text(text, words[first])))
        {
            first++;
        }
        if (first <= end)
        {
            entities.Add(new EntitySpan(words[first].Start..words[end].End, EntityKinds.Name));
        }
        return end - i + 1;
    }
}
