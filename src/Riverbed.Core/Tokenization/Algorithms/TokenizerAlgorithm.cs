namespace Riverbed.Tokenization.Algorithms;

/// <summary>Receives the tokens an algorithm cuts one word into, with offsets relative to the word (UTF-16 units).</summary>
internal interface ITokenSink
{
    void Add(int id, string token, int start, int end);
}

/// <summary>A tokenizer.json "model" (the tokenizing algorithm: BPE, WordPiece, Unigram, WordLevel): turns one pre-tokenized word into vocabulary ids.</summary>
internal abstract class TokenizerAlgorithm
{
    /// <summary>The token string of every id (null where the vocabulary has a hole).</summary>
    public abstract IReadOnlyList<string?> Tokens { get; }

    /// <summary>How many entries the vocabulary has (HF's <c>get_vocab_size</c>, which added ids start after).</summary>
    public abstract int Count { get; }

    public abstract int? TokenToId(string token);

    public string? IdToToken(int id) => id >= 0 && id < Tokens.Count ? Tokens[id] : null;

    /// <summary>Tokenizes a non-empty word.</summary>
    public abstract void Tokenize(ReadOnlySpan<char> word, ITokenSink sink);
}
