namespace Riverbed.Tokenization;

/// <summary>How a <see cref="Tokenizer"/> is loaded and bounded. Immutable.</summary>
public sealed class TokenizerOptions
{
    /// <summary>The defaults: a 1 s regex time limit, caches of 100,000 words.</summary>
    public static TokenizerOptions Default { get; } = new();

    /// <summary>
    /// How long one regex from tokenizer.json (a Split or Replace pattern) may run on one piece of text when it needs
    /// the backtracking engine (patterns with lookarounds); past it, encoding fails with a
    /// <see cref="TokenizationException"/> instead of hanging. Patterns without lookarounds run in linear time.
    /// </summary>
    public TimeSpan RegexTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Words whose tokens are remembered by BPE and Unigram models (0 disables the cache).</summary>
    public int WordCacheCapacity { get; init; } = 100_000;

    /// <summary>
    /// The longest text (in UTF-16 code units, each sequence of a pair on its own) an encode call accepts; longer text
    /// is refused with a <see cref="TokenizationException"/> rather than tokenized at length. The default, 1,048,576,
    /// is far beyond any model's context and keeps one call under about a second and a few hundred MB; raise it for
    /// longer documents (the work grows as n log n at worst).
    /// </summary>
    public int MaxInputLength { get; init; } = 1 << 20;

    /// <summary>
    /// The largest vocabulary accepted (entries, and therefore ids). A tokenizer.json claiming more is refused as
    /// corrupt rather than allocated.
    /// </summary>
    public int MaxVocabularySize { get; init; } = 16 * 1024 * 1024;
}

/// <summary>Options of one encode call. Immutable.</summary>
public sealed class EncodeOptions
{
    /// <summary>Special tokens on, no truncation.</summary>
    public static EncodeOptions Default { get; } = new();

    /// <summary>Whether the post-processor inserts the model's special tokens ([CLS] … [SEP], &lt;s&gt; … &lt;/s&gt;). Default true.</summary>
    public bool AddSpecialTokens { get; init; } = true;

    /// <summary>Truncation, or null for none.</summary>
    public TruncationOptions? Truncation { get; init; }
}

/// <summary>Which sequence of a pair loses tokens first when an encoding is too long.</summary>
public enum TruncationStrategy
{
    /// <summary>Shorten the longer sequence first (both end up about half when both are long). HF's default.</summary>
    LongestFirst,

    /// <summary>Only the first sequence is shortened.</summary>
    OnlyFirst,

    /// <summary>Only the second sequence is shortened.</summary>
    OnlySecond,
}

/// <summary>Which end of a sequence truncation removes.</summary>
public enum TruncationDirection
{
    /// <summary>Keep the beginning, drop the end.</summary>
    Right,

    /// <summary>Keep the end (the most recent context), drop the beginning.</summary>
    Left,
}

/// <summary>Truncation as HF does it. Immutable.</summary>
public sealed class TruncationOptions
{
    /// <summary>The maximum length of the whole encoding, special tokens included.</summary>
    public required int MaxLength { get; init; }

    public TruncationStrategy Strategy { get; init; } = TruncationStrategy.LongestFirst;

    /// <summary>
    /// Tokens repeated between consecutive overflowing windows (0: windows do not overlap). Must be smaller than the
    /// room left for a sequence (<see cref="MaxLength"/> minus the special tokens).
    /// </summary>
    public int Stride { get; init; }

    public TruncationDirection Direction { get; init; } = TruncationDirection.Right;
}
