using Riverbed.Tokenization.Text;

namespace Riverbed.Tokenization.Algorithms;

/// <summary>
/// WordPiece (HF's model): greedy longest-match-first from the start of the word, pieces after the first looked up
/// with the continuing-subword prefix (<c>##</c>); a word with a piece that matches nothing, or longer than
/// <c>max_input_chars_per_word</c> characters, becomes one unknown token.
/// </summary>
internal sealed class WordPiece : TokenizerAlgorithm
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _first;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuing;
    private readonly string?[] _tokens;
    private readonly int _longestFirst;
    private readonly int _longestContinuing;
    private readonly int _unknownId;

    public WordPiece(Dictionary<string, int> vocab, string?[] tokens, string unknownToken,
        string continuingSubwordPrefix, int maxInputCharsPerWord)
    {
        _vocab = vocab;
        _tokens = tokens;
        UnknownToken = unknownToken;
        ContinuingSubwordPrefix = continuingSubwordPrefix;
        MaxInputCharsPerWord = maxInputCharsPerWord;
        _first = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        // "##xyz" looked up as "xyz" in a map of the prefixed entries: the same answers without building strings.
        var continuing = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in vocab)
        {
            _longestFirst = Math.Max(_longestFirst, token.Length);
            if (token.StartsWith(continuingSubwordPrefix, StringComparison.Ordinal))
            {
                var rest = token[continuingSubwordPrefix.Length..];
                continuing[rest] = id;
                _longestContinuing = Math.Max(_longestContinuing, rest.Length);
            }
        }
        _continuing = continuing.GetAlternateLookup<ReadOnlySpan<char>>();
        _unknownId = vocab.TryGetValue(unknownToken, out var unk) ? unk : -1;
    }

    public string UnknownToken { get; }

    public string ContinuingSubwordPrefix { get; }

    public int MaxInputCharsPerWord { get; }

    public override IReadOnlyList<string?> Tokens => _tokens;

    public override int Count => _vocab.Count;

    public override int? TokenToId(string token) => _vocab.TryGetValue(token, out var id) ? id : null;

    public override void Tokenize(ReadOnlySpan<char> word, ITokenSink sink)
    {
        // Counting characters stops early: a 10 MB "word" costs no more than max_input_chars_per_word steps.
        if (word.Length > MaxInputCharsPerWord && CountUpTo(word, MaxInputCharsPerWord + 1) > MaxInputCharsPerWord)
        {
            AddUnknown(word, sink);
            return;
        }

        // At most one piece per UTF-16 unit, and the word is at most max_input_chars_per_word characters long.
        var capacity = Math.Min(word.Length, 256);
        Span<int> pieces = word.Length <= 256 ? stackalloc int[capacity * 3] : new int[word.Length * 3];
        var count = 0;
        var start = 0;
        while (start < word.Length)
        {
            var lookup = start == 0 ? _first : _continuing;
            var end = Math.Min(word.Length, start + (start == 0 ? _longestFirst : _longestContinuing));
            if (end < word.Length && char.IsLowSurrogate(word[end]) && end > start)
            {
                end--;
            }
            var found = -1;
            while (end > start)
            {
                if (lookup.TryGetValue(word[start..end], out var id))
                {
                    found = id;
                    break;
                }
                end--;
                if (end > start && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1]))
                {
                    end--;
                }
            }
            if (found < 0)
            {
                AddUnknown(word, sink);
                return;
            }
            pieces[count * 3] = found;
            pieces[(count * 3) + 1] = start;
            pieces[(count * 3) + 2] = end;
            count++;
            start = end;
        }
        for (var i = 0; i < count; i++)
        {
            var id = pieces[i * 3];
            sink.Add(id, _tokens[id]!, pieces[(i * 3) + 1], pieces[(i * 3) + 2]);
        }
    }

    private void AddUnknown(ReadOnlySpan<char> word, ITokenSink sink)
    {
        if (_unknownId < 0)
        {
            throw new TokenizationException(
                $"The WordPiece model's unknown token '{UnknownToken}' is not in its vocabulary, and the text has a " +
                "word it cannot encode.");
        }
        sink.Add(_unknownId, UnknownToken, 0, word.Length);
    }

    private static int CountUpTo(ReadOnlySpan<char> text, int limit)
    {
        var count = 0;
        for (var i = 0; i < text.Length && count < limit; i += CodePoints.LengthAt(text, i))
        {
            count++;
        }
        return count;
    }
}
