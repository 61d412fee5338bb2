using Riverbed.Tokenization.Decoders;
using Riverbed.Tokenization.Algorithms;
using Riverbed.Tokenization.Normalizers;
using Riverbed.Tokenization.PreTokenizers;
using Riverbed.Tokenization.Text;

namespace Riverbed.Tokenization.Processing;

/// <summary>
/// The stages of a tokenizer.json in HF's order: added tokens and normalization, pre-tokenization, the model (its algorithm), then
/// truncation and post-processing. Immutable and shared; all mutable state lives in the calling thread's
/// <see cref="Workspace"/>.
/// </summary>
internal sealed class TokenizerPipeline(
    Normalizer? normalizer,
    PreTokenizer? preTokenizer,
    TokenizerAlgorithm algorithm,
    AddedVocabulary addedVocabulary,
    PostProcessor? postProcessor,
    Decoder? decoder)
{
    public Normalizer? Normalizer { get; } = normalizer;

    public PreTokenizer? PreTokenizer { get; } = preTokenizer;

    public TokenizerAlgorithm Algorithm { get; } = algorithm;

    public AddedVocabulary AddedVocabulary { get; } = addedVocabulary;

    public PostProcessor? PostProcessor { get; } = postProcessor;

    public Decoder? Decoder { get; } = decoder;

    /// <summary>
    /// Encodes one sequence into its raw tokens (before truncation and post-processing): type and sequence id
    /// <paramref name="sequence"/>, a word id per pre-tokenized piece, offsets in the caller's UTF-16 units.
    /// </summary>
    /// <param name="maxTokens">Stop after the word during which the encoding reaches this many tokens (the tokens
    /// after it would be truncated away anyway).</param>
    public void EncodeSequence(ReadOnlySpan<char> text, int sequence, Workspace workspace, DraftEncoding output,
        int maxTokens = int.MaxValue)
    {
        var pieces = workspace.Text;
        pieces.Reset(text);
        if (!AddedVocabulary.IsEmpty)
        {
            AddedVocabulary.ExtractAndNormalize(pieces, Normalizer);
        }
        else if (Normalizer is not null)
        {
            pieces.NormalizeEach(Normalizer);
            pieces.Reslice();
        }
        PreTokenizer?.PreTokenize(pieces);

        var sink = workspace.Sink;
        sink.Begin(output, pieces, sequence);
        var splits = pieces.Splits;
        for (var word = 0; word < splits.Length && output.Count < maxTokens; word++)
        {
            var split = splits[word];
            sink.Word = word;
            sink.Base = split.Offset;
            if (split.TokenId >= 0)
            {
                sink.Add(split.TokenId, split.TokenText!, 0, split.Length);
            }
            else
            {
                Algorithm.Tokenize(pieces.CharsOf(split), sink);
            }
        }
    }

    /// <summary>
    /// Encodes a text or a pair and post-processes it. Returns the main encoding; with
    /// <paramref name="overflowing"/> it also collects the overflowing windows in HF's order (nested for pairs whose
    /// two sequences both overflow).
    /// </summary>
    public DraftEncoding Encode(ReadOnlySpan<char> text, ReadOnlySpan<char> pair, bool hasPair, EncodeOptions options,
        Workspace workspace, List<Overflow>? overflowing)
    {
        var pool = workspace.Pool;
        var first = pool.Rent();
        // Keeping the start of a single text needs only its first tokens: tokenize no further than that. (A pair's
        // split of the budget depends on both full lengths, and overflowing windows need everything.)
        var enough = overflowing is null && !hasPair && options.Truncation is { Direction: TruncationDirection.Right } t
            ? (t.MaxLength < int.MaxValue ? t.MaxLength + 1 : int.MaxValue)
            : int.MaxValue;
        EncodeSequence(text, 0, workspace, first, enough);
        DraftEncoding? second = null;
        if (hasPair)
        {
            second = pool.Rent();
            EncodeSequence(pair, 1, workspace, second);
        }

        if (options.Truncation is null)
        {
            // Nothing is cut and nothing overflows: the raw encodings themselves go through post-processing.
            return Process(text, pair, first, null, false, second, null, false, options, workspace);
        }

        var added = PostProcessor?.AddedTokens(hasPair) ?? 0;
        var (firstWindows, secondWindows) = Truncation.Plan(first.Count, second?.Count, options.Truncation, added,
            options.AddSpecialTokens);
        var main = Process(text, pair, first, firstWindows[0], false, second, secondWindows?[0], false, options,
            workspace);
        if (overflowing is null)
        {
            return main;
        }

        if (second is null)
        {
            for (var i = 1; i < firstWindows.Count; i++)
            {
                overflowing.Add(new Overflow(
                    Process(text, pair, first, firstWindows[i], true, null, null, false, options, workspace), null));
            }
            return main;
        }
        // HF's Encoding::merge_with, applied to [first, second]: each overflowing window of the first sequence with
        // the second's main window (nesting its pairings with every overflowing window of the second), then with each
        // of those windows; then the first's main window with each overflowing window of the second (nesting the
        // pairings of that window with every overflowing window of the first).
        for (var i = 1; i < firstWindows.Count; i++)
        {
            var nested = new List<Overflow>();
            for (var j = 1; j < secondWindows!.Count; j++)
            {
                nested.Add(new Overflow(Process(text, pair, first, firstWindows[i], true, second, secondWindows[j], true,
                    options, workspace), null));
            }
            overflowing.Add(new Overflow(Process(text, pair, first, firstWindows[i], true, second, secondWindows[0], false,
                options, workspace), nested));
            for (var j = 1; j < secondWindows.Count; j++)
            {
                overflowing.Add(new Overflow(Process(text, pair, first, firstWindows[i], true, second, secondWindows[j],
                    true, options, workspace), null));
            }
        }
        for (var j = 1; j < secondWindows!.Count; j++)
        {
            var nested = new List<Overflow>();
            for (var i = 1; i < firstWindows.Count; i++)
            {
                nested.Add(new Overflow(Process(text, pair, first, firstWindows[i], true, second, secondWindows[j], true,
                    options, workspace), null));
            }
            overflowing.Add(new Overflow(Process(text, pair, first, firstWindows[0], false, second, secondWindows[j], true,
                options, workspace), nested));
        }
        return main;
    }

    /// <summary>Post-processes one window of each sequence (a null window: the raw encoding itself, consumed).</summary>
    private DraftEncoding Process(ReadOnlySpan<char> text, ReadOnlySpan<char> pair, DraftEncoding first,
        (int Start, int End)? firstWindow, bool firstOverflow, DraftEncoding? second, (int Start, int End)? secondWindow,
        bool secondOverflow, EncodeOptions options, Workspace workspace)
    {
        var pool = workspace.Pool;
        var encodings = workspace.Encodings;
        encodings.Clear();
        encodings.Add(firstWindow is { } w1 ? Slice(first, w1, firstOverflow, pool) : first);
        if (second is not null)
        {
            encodings.Add(secondWindow is { } w2 ? Slice(second, w2, secondOverflow, pool) : second);
        }
        PostProcessor?.ProcessEncodings(encodings,
            new ProcessingContext(options.AddSpecialTokens, pool, workspace.Scratch, text, pair));
        if (encodings.Count == 1)
        {
            return encodings[0];
        }
        var merged = pool.Rent();
        foreach (var encoding in encodings)
        {
            merged.Append(encoding);
        }
        return merged;
    }

    private static DraftEncoding Slice(DraftEncoding source, (int Start, int End) window, bool overflow, DraftPool pool)
    {
        var slice = pool.Rent();
        slice.AppendRange(source, window.Start, window.End);
        slice.IsOverflow = overflow;
        return slice;
    }

    /// <summary>An overflowing window, post-processed, with its own nested overflowing windows (pairs only).</summary>
    internal sealed record Overflow(DraftEncoding Encoding, List<Overflow>? Nested);
}

/// <summary>Everything one thread needs to encode, reused across calls (and tokenizers) on that thread.</summary>
internal sealed class Workspace
{
    [ThreadStatic]
    private static Workspace? t_current;

    public static Workspace Current => t_current ??= new Workspace();

    /// <summary>
    /// The workspace for a call on text of this length: the thread's own, or for very long text a throwaway one, so
    /// a rare huge input does not leave huge buffers attached to the thread.
    /// </summary>
    public static Workspace For(int length) => length > LargeInput ? new Workspace() : Current;

    /// <summary>Inputs (or words) longer than this use throwaway scratch buffers.</summary>
    public const int LargeInput = 1 << 16;

    public PreTokenizedText Text { get; } = new();

    public DraftPool Pool { get; } = new();

    public TokenSink Sink { get; } = new();

    public List<DraftEncoding> Encodings { get; } = [];

    public List<DraftEncoding> Scratch { get; } = [];
}

/// <summary>Receives model tokens for one piece and stores them with offsets mapped back to the original text.</summary>
internal sealed class TokenSink : ITokenSink
{
    private DraftEncoding _output = null!;
    private PreTokenizedText _text = null!;
    private int _sequence;

    public int Word;
    public int Base;

    public void Begin(DraftEncoding output, PreTokenizedText text, int sequence)
    {
        _output = output;
        _text = text;
        _sequence = sequence;
    }

    public void Add(int id, string token, int start, int end)
    {
        var output = _output;
        output.Ensure(output.Count + 1);
        var i = output.Count++;
        output.Ids[i] = id;
        output.Tokens[i] = token;
        output.TypeIds[i] = _sequence;
        output.SequenceIds[i] = _sequence;
        output.Words[i] = Word;
        output.Special[i] = 0;
        if (end > start)
        {
            output.Starts[i] = _text.StartOf(Base + start);
            output.Ends[i] = _text.EndOf(Base + end - 1);
        }
        else
        {
            output.Starts[i] = output.Ends[i] = _text.StartOf(Base + start);
        }
    }
}
