using System.Collections.Frozen;

namespace Riverbed.Scoring;

/// <summary>Kinds of entity span the replaced-token scorer averages over.</summary>
public static class EntityKinds
{
    public const string Name = "name";
    public const string Number = "number";
    public const string Date = "date";
    public const string Quantity = "quantity";
}

/// <summary>An entity found in a text: its character range, and kind (a NER label such as "PER", or an <see cref="EntityKinds"/> value).</summary>
public sealed record EntitySpan(Range Range, string Kind);

/// <summary>
/// Finds entity-like spans when no NER model is given. Documented rules, in order of precedence:
/// <list type="number">
/// <item>dates: a month name with an adjacent day and/or year ("July 4, 1776", "4 July 1776", "March 2020"),
/// ISO or slashed dates ("1776-07-04", "07/04/1776"), and four-digit years 1000–2099 on their own;</item>
/// <item>quantities: a number followed by a unit or scale word ("3.5 km", "12 million", "40 percent", "70%") or
/// preceded by a currency sign ("$5", "€12.50");</item>
/// <item>numbers: any other word with a digit ("42", "3.14", "1,000", "10th", "1990s");</item>
/// <item>names: runs of capitalised words ("Eiffel Tower", "University of Oxford": lower-case "of", "de", "von",
/// "van", "da", "del", "la", "the" may join capitalised words), except that a run's first word is dropped when it
/// starts a sentence, a line, a list item or what follows a colon (it may be capitalised only for that reason);
/// leading words that are common English words ("The", "This", "If", "Here", "Step", …) are dropped too and a
/// capitalised common word ends a run (title-case headings); the pronoun "I" and its contractions ("I'm") are never
/// names.</item>
/// </list>
/// Code and markup (<see cref="CodeSpans"/>) hold no entities, and neither do code identifiers outside them: words
/// joined by underscores ("max_length"), camelCase words ("getElementById"), dotted lower-case paths ("os.path") and
/// words directly followed by "(" ("print(").
/// Spans never overlap; they are returned in text order.
/// </summary>
public static class EntityHeuristic
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

    // Words that begin sentences, list items and headings far more often than names do. A run never starts with one,
    // and a capitalised one ends a run. Adjectives that begin many names ("New York", "Great Britain") are left out.
    private static readonly FrozenSet<string> CommonWords = ScoringOptions.DefaultStopwords.Concat(new[]
    {
        "however", "therefore", "additionally", "furthermore", "moreover", "finally", "first", "firstly", "second", "secondly",
        "third", "next", "lastly", "overall", "yes", "sure", "certainly", "absolutely", "okay", "ok", "well", "hello", "hi",
        "hey", "thanks", "thank", "please", "sorry", "unfortunately", "fortunately", "generally", "typically", "usually",
        "often", "sometimes", "many", "most", "several", "both", "either", "neither", "every", "another", "other", "one",
        "two", "three", "step", "note", "notes", "example", "examples", "tip", "tips", "warning", "important", "answer",
        "question", "summary", "conclusion", "introduction", "ingredients", "instructions", "output", "input", "result",
        "results", "solution", "explanation", "option", "options", "use", "using", "make", "add", "remove", "create",
        "check", "try", "let", "let's", "here's", "there's", "it's", "that's", "what's", "i'm", "i've", "i'll", "i'd",
        "you're", "we're", "they're", "don't", "can't", "won't", "doesn't", "isn't", "aren't", "according", "based",
        "after", "before", "during", "while", "although", "though", "since", "because", "unless", "until", "once", "now",
        "today", "instead", "like", "even", "still", "yet", "thus", "hence", "consider", "remember", "keep", "avoid",
        "start", "begin", "choose", "find", "look", "write", "read", "give", "take", "get", "set", "put", "place", "mix",
        "combine", "stir", "bake", "cook", "heat", "serve", "preheat", "cut", "pour", "whisk", "boil", "different",
        "same", "various", "common", "simple", "easy", "quick", "none", "null", "hope", "feel", "think", "know", "want",
        "need", "love", "enjoy", "learn", "understand", "develop", "provide", "ensure", "include", "including", "identify",
        "determine", "calculate", "explain", "describe", "list", "compare", "define", "imagine", "suppose", "only",
        "only", "more", "less", "other", "another", "whether", "otherwise", "besides", "anyway", "again", "always",
        "sometimes", "perhaps", "maybe", "probably", "definitely", "indeed", "actually", "basically", "essentially",
        "specifically", "especially", "particularly", "similarly", "likewise", "meanwhile", "afterwards", "then",
    }).ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private readonly record struct Word(int Start, int End, bool StartsSentence, bool Boundary, bool Identifier);

    public static IReadOnlyList<EntitySpan> Find(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = Words(text, CodeSpans.Find(text));
        var entities = new List<EntitySpan>();
        var i = 0;
        while (i < words.Count)
        {
            if (words[i].Identifier || IsListNumber(text, words, i))
            {
                i++;
                continue;
            }
            var consumed = TryDate(text, words, i, entities)
                ?? TryQuantityOrNumber(text, words, i, entities)
                ?? TryName(text, words, i, entities)
                ?? 1;
            i += consumed;
        }
        return entities;
    }

    private static List<Word> Words(string text, IReadOnlyList<Range> code)
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
            if (CodeSpans.Overlaps(code, start, i))
            {
                continue;
            }
            var wordStartsSentence = sentenceStarts.Contains(start) || (start > 0 && sentenceStarts.Contains(start - 1) && !IsWordChar(text[start - 1]));
            words.Add(new Word(start, i, wordStartsSentence, wordStartsSentence || AfterBoundary(text, start), IsIdentifier(text, start, i)));
        }
        return words;
    }

    /// <summary>
    /// True when the word at <paramref name="start"/> begins the text, a line, a list item or a clause after ':', ';',
    /// '!' or '?' — looking back over spaces, quotes, brackets, Markdown emphasis and heading marks and list numbers.
    /// </summary>
    private static bool AfterBoundary(string text, int start)
    {
        var k = start - 1;
        while (k >= 0)
        {
            var c = text[k];
            if (c is ' ' or '\t' or '"' or '“' or '\'' or '‘' or '(' or '[' or '*' or '_' or '#' or '>' or '-' or '•' or '|')
            {
                k--;
                continue;
            }
            if ((c is '.' or ')') && k > 0 && char.IsAsciiDigit(text[k - 1]))
            {
                // "1. " or "2) ": a list number, when only decoration or a line start precedes it.
                var d = k - 1;
                while (d >= 0 && char.IsAsciiDigit(text[d]))
                {
                    d--;
                }
                while (d >= 0 && text[d] is ' ' or '\t')
                {
                    d--;
                }
                if (d < 0 || text[d] is '\n' or '\r')
                {
                    return true;
                }
                return false;
            }
            return c is '\n' or '\r' or ':' or ';' or '!' or '?';
        }
        return true;
    }

    /// <summary>
    /// A number that numbers a list item ("1. ", "2) " at the start of a line) or a step ("Step 3:"): a position in
    /// the answer's layout, not a fact.
    /// </summary>
    private static bool IsListNumber(string text, List<Word> words, int i)
    {
        var word = words[i];
        for (var k = word.Start; k < word.End; k++)
        {
            if (!char.IsAsciiDigit(text[k]))
            {
                return false;
            }
        }
        if (word.End >= text.Length || text[word.End] is not ('.' or ')' or ':'))
        {
            return false;
        }
        if (i > 0 && Text(text, words[i - 1]).Equals("step", StringComparison.OrdinalIgnoreCase) && OnlySpacesBetween(text, words[i - 1].End, word.Start))
        {
            return true;
        }
        if (text[word.End] == ':' || (word.End + 1 < text.Length && text[word.End + 1] is not (' ' or '\t' or '\n' or '\r')))
        {
            return false;
        }
        var k2 = word.Start - 1;
        while (k2 >= 0 && text[k2] is ' ' or '\t' or '*' or '#' or '>')
        {
            k2--;
        }
        return k2 < 0 || text[k2] is '\n' or '\r';
    }

    /// <summary>A code identifier: joined by underscores, camelCase, a dotted lower-case path, called with "(", or a call's argument.</summary>
    private static bool IsIdentifier(string text, int start, int end)
    {
        if ((start > 0 && text[start - 1] == '_') || (end < text.Length && text[end] is '_' or '(')
            || (start > 1 && text[start - 1] == '(' && IsWordChar(text[start - 2])))
        {
            return true;
        }
        var word = text.AsSpan(start, end - start);
        if (char.IsLower(word[0]))
        {
            for (var k = 1; k < word.Length; k++)
            {
                if (char.IsUpper(word[k]))
                {
                    return true;
                }
            }
        }
        for (var k = 1; k + 1 < word.Length; k++)
        {
            if (word[k] == '.' && char.IsLower(word[k + 1]) && char.IsLetter(word[k - 1]))
            {
                return true;
            }
        }
        return false;
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

    private static bool IsCapitalised(ReadOnlySpan<char> word) => word.Length > 0 && char.IsUpper(word[0]) && !word.Equals("I", StringComparison.Ordinal)
        && !(word.Length > 1 && word[0] == 'I' && word[1] is '\'' or '’');

    private static bool IsCommon(ReadOnlySpan<char> word) => CommonWords.GetAlternateLookup<ReadOnlySpan<char>>().Contains(word)
        || (word.Contains('’') && CommonWords.Contains(word.ToString().Replace('’', '\'')));

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
            if (IsCapitalised(next) && !HasDigit(next) && !words[k].Identifier && !IsCommon(next))
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
        var first = words[i].Boundary ? i + 1 : i;
        while (first <= end && (NameJoiners.GetAlternateLookup<ReadOnlySpan<char>>().Contains(Text(text, words[first])) || IsCommon(Text(text, words[first]))))
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
