namespace Riverbed.Tokenization.Algorithms;

/// <summary>One token per word: the word's id, or the unknown token's.</summary>
internal sealed class WordLevel : TokenizerAlgorithm
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly string?[] _tokens;
    private readonly int _unknownId;

    public WordLevel(Dictionary<string, int> vocab, string?[] tokens, string unknownToken)
    {
        _vocab = vocab;
        _bySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _tokens = tokens;
        UnknownToken = unknownToken;
        _unknownId = vocab.TryGetValue(unknownToken, out var id) ? id : -1;
    }

    public string UnknownToken { get; }

    public override IReadOnlyList<string?> Tokens => _tokens;

    public override int Count => _vocab.Count;

    public override int? TokenToId(string token) => _vocab.TryGetValue(token, out var id) ? id : null;

    public override void Tokenize(ReadOnlySpan<char> word, ITokenSink sink)
    {
        if (_bySpan.TryGetValue(word, out var id))
        {
            sink.Add(id, _tokens[id]!, 0, word.Length);
            return;
        }
        if (_unknownId < 0)
        {
            throw new TokenizationException(
                $"The WordLevel model's unknown token '{UnknownToken}' is not in its vocabulary, and the text has a " +
                "word it does not know.");
        }
        sink.Add(_unknownId, UnknownToken, 0, word.Length);
    }
}
