namespace Riverbed.Tokenization;

/// <summary>
/// A tokenizer.json that cannot be used as it is: malformed JSON, an unsupported component, or data that contradicts
/// itself (a merge of unknown tokens, an id out of range, an added token whose id disagrees with the vocabulary).
/// The message names the file, the JSON path of the offending element (for example <c>$.model.merges[17]</c>) and what
/// is supported, so it can be printed to a user as it is.
/// </summary>
public sealed class TokenizerLoadException : RiverbedException
{
    public TokenizerLoadException()
    {
    }

    public TokenizerLoadException(string message)
        : base(message)
    {
    }

    public TokenizerLoadException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The JSON path of the element at fault (<c>$</c> for the document itself), when known.</summary>
    public string? JsonPath { get; init; }
}

/// <summary>
/// Text that could not be tokenized within the tokenizer's bounds (a regex from tokenizer.json ran past its time limit,
/// a truncation that cannot be satisfied). The message says what to change.
/// </summary>
public sealed class TokenizationException : RiverbedException
{
    public TokenizationException()
    {
    }

    public TokenizationException(string message)
        : base(message)
    {
    }

    public TokenizationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
