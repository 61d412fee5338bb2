using System.Collections.Immutable;

namespace Riverbed.Tokenization;

/// <summary>
/// The result of encoding a text (or a pair of texts), token by token, exactly as HF tokenizers reports it.
/// All arrays have one entry per token and share its index. Immutable; the arrays are never copied on access.
/// </summary>
/// <remarks>
/// Offsets are [start, end) ranges in UTF-16 code units of the caller's original string (of the pair string for a
/// pair's second sequence, see <see cref="SequenceIds"/>), so <c>text[offsets[i]]</c> is the text of token i. Tokens
/// inserted by the post-processor ([CLS], &lt;/s&gt;...) have <c>0..0</c>. Byte-level pieces of one character all
/// cover that whole character; byte-level tokens that are only whitespace can have an empty range.
/// The arrays are <see cref="ImmutableArray{T}"/>: index them or take <c>AsSpan()</c> at no cost; compare them with
/// <c>SequenceEqual</c> (their <c>Equals</c> compares the underlying array instances, not the contents).
/// </remarks>
public sealed class EncodedText
{
    internal EncodedText(int[] ids, int[] typeIds, string[] tokens, Range[] offsets, int[] specialTokensMask,
        int?[] wordIds, int?[] sequenceIds, IReadOnlyList<EncodedText> overflowing)
    {
        Ids = ImmutableCollectionsMarshalAsImmutable(ids);
        TypeIds = ImmutableCollectionsMarshalAsImmutable(typeIds);
        Tokens = ImmutableCollectionsMarshalAsImmutable(tokens);
        Offsets = ImmutableCollectionsMarshalAsImmutable(offsets);
        SpecialTokensMask = ImmutableCollectionsMarshalAsImmutable(specialTokensMask);
        WordIds = ImmutableCollectionsMarshalAsImmutable(wordIds);
        SequenceIds = ImmutableCollectionsMarshalAsImmutable(sequenceIds);
        AttentionMask = ImmutableCollectionsMarshalAsImmutable(CreateOnes(ids.Length));
        Overflowing = overflowing;
    }

    /// <summary>Vocabulary ids.</summary>
    public ImmutableArray<int> Ids { get; }

    /// <summary>Segment (token type) ids: 0 for the first sequence, usually 1 for the second (0 for RoBERTa).</summary>
    public ImmutableArray<int> TypeIds { get; }

    /// <summary>The token strings as the vocabulary spells them (byte-level 'Ġ' spaces, '##' continuations, '▁'...).</summary>
    public ImmutableArray<string> Tokens { get; }

    /// <summary>[start, end) in UTF-16 code units of the original text (see the type's remarks).</summary>
    public ImmutableArray<Range> Offsets { get; }

    /// <summary>1 for tokens the post-processor inserted, 0 for tokens of the text (added tokens matched in the text included).</summary>
    public ImmutableArray<int> SpecialTokensMask { get; }

    /// <summary>1 for every token (no padding is ever added).</summary>
    public ImmutableArray<int> AttentionMask { get; }

    /// <summary>The index of the pre-tokenized word each token belongs to, within its sequence; null for inserted tokens.</summary>
    public ImmutableArray<int?> WordIds { get; }

    /// <summary>0 for tokens of the text, 1 for tokens of the pair, null for inserted special tokens.</summary>
    public ImmutableArray<int?> SequenceIds { get; }

    /// <summary>The windows truncation cut off (with a stride they overlap the main window), each post-processed.</summary>
    public IReadOnlyList<EncodedText> Overflowing { get; }

    /// <summary>The number of tokens.</summary>
    public int Length => Ids.Length;

    private static int[] CreateOnes(int length)
    {
        var ones = new int[length];
        Array.Fill(ones, 1);
        return ones;
    }

    private static ImmutableArray<T> ImmutableCollectionsMarshalAsImmutable<T>(T[] array) =>
        System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(array);
}

/// <summary>
/// Ids wrapped by <see cref="Tokenizer.Compose(ReadOnlySpan{int}, ReadOnlySpan{int})"/>: the model input's ids and
/// type ids, and where each given sequence begins in them (−1 for an empty sequence).
/// </summary>
public readonly record struct ComposedIds(int[] Ids, int[] TypeIds, int FirstStart, int SecondStart);
