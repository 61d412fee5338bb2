using System.Globalization;

namespace Riverbed.ModelKit;

/// <summary>
/// A WordPiece vocabulary of a few hundred tokens, for oracle models that tests run many times: a masked LM's logits
/// are [batch, sequence, vocabulary], so on bert-base-uncased's 30,522 ids or roberta-base's 50,265 every Run writes and
/// reads tens of megabytes, on a few hundred ids a few hundred kilobytes. It holds BERT's five specials, every
/// printable ASCII character (and the letters and digits again as "##" continuations, so any ASCII text encodes
/// without [UNK]) and the given words whole. <see cref="BertTokenizerJson.Create"/> turns it into the matching
/// tokenizer.json (BERT's normalizer, pre-tokenizer and templates).
/// </summary>
public static class SmallVocabulary
{
    /// <summary>BERT's special tokens, at ids 0 to 4.</summary>
    public static IReadOnlyList<string> Specials { get; } = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    /// <summary>The vocabulary in id order: the specials, the characters, their continuations, then the words (lowercased, each once).</summary>
    /// <exception cref="ArgumentException">A word is empty or holds other characters than ASCII letters and digits (BERT's pre-tokenizer would split it).</exception>
    public static IReadOnlyList<string> Create(IEnumerable<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var vocabulary = new List<string>(Specials);
        var seen = new HashSet<string>(Specials, StringComparer.Ordinal);
        void Add(string token)
        {
            if (seen.Add(token))
            {
                vocabulary.Add(token);
            }
        }
        for (var c = '!'; c <= '~'; c++)
        {
            // The normalizer lowercases, so capitals never reach the vocabulary.
            if (!char.IsAsciiLetterUpper(c))
            {
                Add(c.ToString());
            }
        }
        for (var c = '!'; c <= '~'; c++)
        {
            if (char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))
            {
                Add("##" + c);
            }
        }
        foreach (var word in words)
        {
            var lower = word.ToLowerInvariant();
            if (lower.Length == 0 || !lower.All(char.IsAsciiLetterOrDigit))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"'{word}' is not a word of ASCII letters and digits; a small vocabulary's words are kept whole"), nameof(words));
            }
            Add(lower);
        }
        return vocabulary;
    }

    /// <summary>The tokenizer.json of <see cref="Create"/>'s vocabulary for these words.</summary>
    public static string TokenizerJson(IEnumerable<string> words) => BertTokenizerJson.Create(Create(words));
}
