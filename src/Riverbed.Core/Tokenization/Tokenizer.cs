using System.Globalization;
using System.Text;
using Riverbed.Tokenization.Decoders;
using Riverbed.Tokenization.Json;
using Riverbed.Tokenization.Algorithms;
using Riverbed.Tokenization.PreTokenizers;
using Riverbed.Tokenization.Processing;
using Riverbed.Tokenization.Text;

namespace Riverbed.Tokenization;

/// <summary>
/// A HuggingFace tokenizer loaded from <c>tokenizer.json</c>, encoding exactly as HF's Rust tokenizers (0.22) do:
/// same ids, type ids, tokens, special-token masks, word ids and offsets. Immutable and thread-safe: one instance
/// serves every thread (per-thread scratch buffers make encoding allocation-light).
/// </summary>
/// <remarks>
/// <para>Supported: normalizers BertNormalizer, NFC/NFD/NFKC/NFKD, Lowercase, StripAccents, Strip, Replace,
/// Prepend, Precompiled (SentencePiece charsmaps), Nmt, ByteLevel, Sequence; pre-tokenizers ByteLevel,
/// BertPreTokenizer, Whitespace, WhitespaceSplit, Metaspace, Split, Punctuation, Digits, CharDelimiterSplit,
/// Sequence; models BPE (byte-level, byte fallback, subword affixes), WordPiece, Unigram, WordLevel; post-processors
/// TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence; decoders ByteLevel, WordPiece,
/// Metaspace, ByteFallback, Fuse, Strip, Replace, BPEDecoder, CTC, Sequence.</para>
/// <para>Character data is pinned to the Unicode versions HF's dependencies use (normalization forms 9.0, BERT's
/// punctuation/control/accent classes 8.0, lowercasing and digits 17.0), so ids do not change with the .NET runtime's
/// Unicode version; a test checks every normalizer and pre-tokenizer against HF on 261,120 code points.</para>
/// <para>Offsets are [start, end) in UTF-16 code units of the caller's string. Text is processed as Unicode scalar
/// values; a lone surrogate (which no UTF-8 source can carry) is read as U+FFFD, and its token's offsets cover the
/// surrogate. Control characters are handled as HF does (BERT drops them, byte-level BPE encodes their bytes).</para>
/// <para>Bounded work: Split/Replace regexes run on the non-backtracking engine when they can, else under
/// <see cref="TokenizerOptions.RegexTimeout"/>; WordPiece stops examining a word after
/// <c>max_input_chars_per_word</c> characters; BPE and Unigram cache words of up to 256 characters.</para>
/// <para>The file's <c>truncation</c> is exposed as <see cref="Truncation"/> but never applied implicitly, and its
/// <c>padding</c> is ignored: callers choose truncation per call and pad batches themselves
/// (<see cref="PadTokenId"/>).</para>
/// </remarks>
public sealed class Tokenizer
{
    private static readonly string[] MaskCandidates = ["<mask>", "[MASK]"];
    private static readonly string[] PadCandidates = ["<pad>", "[PAD]"];

    private readonly TokenizerPipeline _pipeline;
    private readonly Dictionary<int, AddedToken> _addedById = [];
    private readonly Dictionary<string, int> _addedByContent = new(StringComparer.Ordinal);
    private readonly HashSet<string> _specialContents = new(StringComparer.Ordinal);
    private readonly HashSet<int> _specialIds = [];
    private readonly WordBoundary _boundary;
    private readonly string _boundaryMarker = string.Empty;

    private enum WordBoundary
    {
        None,
        ByteLevelSpace,
        ContinuingPrefix,
        Metaspace,
    }

    private readonly int _maxInputLength;

    private Tokenizer(LoadedTokenizer loaded, TokenizerOptions options)
    {
        _pipeline = loaded.Pipeline;
        _maxInputLength = options.MaxInputLength;
        Truncation = loaded.Truncation;
        var algorithm = _pipeline.Algorithm;
        var size = algorithm.Tokens.Count;
        foreach (var token in loaded.AddedTokens)
        {
            _addedById[token.Id] = token;
            _addedByContent[token.Content] = token.Id;
            size = Math.Max(size, token.Id + 1);
            if (token.Special)
            {
                _specialContents.Add(token.Content);
                _specialIds.Add(token.Id);
            }
        }
        VocabularySize = size;
        foreach (var (_, id) in _pipeline.PostProcessor?.InsertedTokens() ?? [])
        {
            _specialIds.Add(id);
        }

        (_boundary, _boundaryMarker) = DetectWordBoundary();
        MaskToken = MaskCandidates.FirstOrDefault(t => TokenToId(t) is not null);
        MaskTokenId = MaskToken is null ? null : TokenToId(MaskToken);
        PadToken = PadCandidates.FirstOrDefault(t => TokenToId(t) is not null);
        PadTokenId = PadToken is null ? null : TokenToId(PadToken);
    }

    /// <summary>Loads a tokenizer.json file.</summary>
    /// <exception cref="TokenizerLoadException">The file is missing, unreadable, malformed or unsupported; the message
    /// names the file and the JSON path at fault.</exception>
    public static Tokenizer FromFile(string path, TokenizerOptions? options = null)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or NotSupportedException
            or ArgumentException)
        {
            throw new TokenizerLoadException($"{path}: cannot read the tokenizer file: {error.Message}", error);
        }
        options ??= TokenizerOptions.Default;
        return new Tokenizer(TokenizerJsonLoader.Load(bytes, path, options), options);
    }

    /// <summary>Loads a tokenizer from the text of a tokenizer.json.</summary>
    /// <exception cref="TokenizerLoadException">The JSON is malformed or unsupported (the message names the JSON path).</exception>
    public static Tokenizer FromJson(string json, TokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        options ??= TokenizerOptions.Default;
        return new Tokenizer(TokenizerJsonLoader.Load(Encoding.UTF8.GetBytes(json), "tokenizer.json (from a string)",
            options), options);
    }

    /// <summary>The highest id plus one, added tokens included (the size of a model's output layer).</summary>
    public int VocabularySize { get; }

    /// <summary>The truncation the file declares (not applied implicitly; pass it in <see cref="EncodeOptions"/>).</summary>
    public TruncationOptions? Truncation { get; }

    /// <summary>The mask token's text (<c>&lt;mask&gt;</c> for RoBERTa, <c>[MASK]</c> for BERT/ELECTRA/DeBERTa), or null.</summary>
    public string? MaskToken { get; }

    /// <summary>The mask token's id, or null when the tokenizer has none.</summary>
    public int? MaskTokenId { get; }

    /// <summary>The padding token's text (<c>&lt;pad&gt;</c> or <c>[PAD]</c>), or null.</summary>
    public string? PadToken { get; }

    /// <summary>The padding token's id, or null when the tokenizer has none.</summary>
    public int? PadTokenId { get; }

    /// <summary>Encodes one text.</summary>
    public EncodedText Encode(string text, EncodeOptions? options = null) =>
        Encode(text.AsSpan(), options);

    /// <summary>Encodes a text, or a pair when <paramref name="pair"/> is not null (an empty pair is still a pair).</summary>
    public EncodedText Encode(string text, string? pair, EncodeOptions? options = null) =>
        pair is null ? Encode(text.AsSpan(), options) : Encode(text.AsSpan(), pair.AsSpan(), options);

    /// <summary>Encodes one text.</summary>
    public EncodedText Encode(ReadOnlySpan<char> text, EncodeOptions? options = null) =>
        EncodeCore(text, default, false, options ?? EncodeOptions.Default);

    /// <summary>Encodes a pair (premise/hypothesis, context/response); offsets of the second sequence index into
    /// <paramref name="pair"/>. An empty <paramref name="pair"/> is an empty second sequence, as in HF.</summary>
    public EncodedText Encode(ReadOnlySpan<char> text, ReadOnlySpan<char> pair, EncodeOptions? options = null) =>
        EncodeCore(text, pair, true, options ?? EncodeOptions.Default);

    /// <summary>Encodes many texts in parallel; results are in input order.</summary>
    public IReadOnlyList<EncodedText> EncodeBatch(IReadOnlyList<string> texts, EncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var results = new EncodedText[texts.Count];
        Parallel.For(0, texts.Count, i => results[i] = Encode(texts[i], options));
        return results;
    }

    /// <summary>Encodes many texts or pairs in parallel; results are in input order.</summary>
    public IReadOnlyList<EncodedText> EncodeBatch(IReadOnlyList<(string Text, string? Pair)> inputs,
        EncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var results = new EncodedText[inputs.Count];
        Parallel.For(0, inputs.Count, i => results[i] = Encode(inputs[i].Text, inputs[i].Pair, options));
        return results;
    }

    /// <summary>
    /// Encodes one text straight into caller buffers (tensor rows): ids, type ids and attention mask. Returns the
    /// number of tokens written; overflowing windows are not produced (use <see cref="Encode(string, EncodeOptions?)"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is shorter than the encoding (the message gives both lengths).</exception>
    public int EncodeToIds(ReadOnlySpan<char> text, Span<long> ids, Span<long> typeIds, Span<long> attentionMask,
        EncodeOptions? options = null) =>
        Write(EncodeDraft(text, default, false, options), ids, typeIds, attentionMask);

    /// <summary>Encodes a pair straight into caller buffers; see <see cref="EncodeToIds(ReadOnlySpan{char}, Span{long}, Span{long}, Span{long}, EncodeOptions?)"/>.</summary>
    public int EncodeToIds(ReadOnlySpan<char> text, ReadOnlySpan<char> pair, Span<long> ids, Span<long> typeIds,
        Span<long> attentionMask, EncodeOptions? options = null) =>
        Write(EncodeDraft(text, pair, true, options), ids, typeIds, attentionMask);

    /// <summary>As the <see cref="long"/> overload, for int32 model inputs.</summary>
    public int EncodeToIds(ReadOnlySpan<char> text, Span<int> ids, Span<int> typeIds, Span<int> attentionMask,
        EncodeOptions? options = null) =>
        Write(EncodeDraft(text, default, false, options), ids, typeIds, attentionMask);

    /// <summary>As the <see cref="long"/> overload, for int32 model inputs.</summary>
    public int EncodeToIds(ReadOnlySpan<char> text, ReadOnlySpan<char> pair, Span<int> ids, Span<int> typeIds,
        Span<int> attentionMask, EncodeOptions? options = null) =>
        Write(EncodeDraft(text, pair, true, options), ids, typeIds, attentionMask);

    /// <summary>
    /// Wraps an already-tokenized sequence with the post-processor's special tokens and type ids, exactly as
    /// <see cref="Encode(string, EncodeOptions?)"/> would around the same tokens: for windows over long texts and
    /// budgets cut in tokens, where re-encoding a substring could tokenize its edges differently.
    /// </summary>
    public ComposedIds Compose(ReadOnlySpan<int> first) => ComposeCore(first, default, false);

    /// <summary>
    /// Wraps two already-tokenized sequences as a pair (<c>[CLS] A [SEP] B [SEP]</c>, <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B
    /// &lt;/s&gt;</c>, …) exactly as <see cref="Encode(string, string?, EncodeOptions?)"/> would around the same tokens.
    /// </summary>
    public ComposedIds Compose(ReadOnlySpan<int> first, ReadOnlySpan<int> second) => ComposeCore(first, second, true);

    private ComposedIds ComposeCore(ReadOnlySpan<int> first, ReadOnlySpan<int> second, bool hasPair)
    {
        var workspace = Workspace.For(first.Length + second.Length);
        workspace.Pool.ReturnAll();
        var encodings = workspace.Encodings;
        encodings.Clear();
        encodings.Add(Draft(first, 0, workspace.Pool));
        if (hasPair)
        {
            encodings.Add(Draft(second, 1, workspace.Pool));
        }
        _pipeline.PostProcessor?.ProcessEncodings(encodings,
            new ProcessingContext(true, workspace.Pool, workspace.Scratch, default, default));
        var total = encodings.Sum(e => e.Count);
        var ids = new int[total];
        var typeIds = new int[total];
        int firstStart = -1, secondStart = -1, at = 0;
        foreach (var encoding in encodings)
        {
            for (var i = 0; i < encoding.Count; i++, at++)
            {
                ids[at] = encoding.Ids[i];
                typeIds[at] = encoding.TypeIds[i];
                if (encoding.SequenceIds[i] == 0 && firstStart < 0)
                {
                    firstStart = at;
                }
                else if (encoding.SequenceIds[i] == 1 && secondStart < 0)
                {
                    secondStart = at;
                }
            }
        }
        return new ComposedIds(ids, typeIds, firstStart, secondStart);
    }

    private DraftEncoding Draft(ReadOnlySpan<int> ids, int sequence, DraftPool pool)
    {
        var draft = pool.Rent();
        draft.Ensure(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            var id = ids[i];
            draft.Ids[i] = id;
            draft.TypeIds[i] = sequence;
            draft.SequenceIds[i] = sequence;
            draft.Tokens[i] = IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(ids), id, "No token has this id.");
            draft.Words[i] = -1;
            draft.Special[i] = 0;
            draft.Starts[i] = draft.Ends[i] = 0;
        }
        draft.Count = ids.Length;
        return draft;
    }

    /// <summary>
    /// Turns ids back into text with the tokenizer's decoder (unknown ids are skipped; special tokens too unless
    /// <paramref name="skipSpecialTokens"/> is false), as HF's <c>decode</c>.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true)
    {
        var tokens = new List<string>(ids.Length);
        foreach (var id in ids)
        {
            if (IdToToken(id) is not { } token)
            {
                continue;
            }
            if (skipSpecialTokens && _specialContents.Contains(token))
            {
                continue;
            }
            tokens.Add(token);
        }
        return _pipeline.Decoder is { } decoder ? decoder.Decode(tokens) : string.Join(' ', tokens);
    }

    /// <summary>The id of a token (added tokens first, then the model's vocabulary), or null.</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _addedByContent.TryGetValue(token, out var id) ? id : _pipeline.Algorithm.TokenToId(token);
    }

    /// <summary>The token string of an id, or null when no token has it.</summary>
    public string? IdToToken(int id) =>
        _addedById.TryGetValue(id, out var added) ? added.Content : _pipeline.Algorithm.IdToToken(id);

    /// <summary>Whether the id is a special token: an added token marked special, or one the post-processor inserts.</summary>
    public bool IsSpecialToken(int id) => _specialIds.Contains(id);

    /// <summary>
    /// Whether the piece can begin a whole word: byte-level BPE pieces that start with a space ('Ġ'), WordPiece pieces
    /// that are not '##' continuations, SentencePiece pieces that start with '▁'. Added non-special tokens count as
    /// words; special tokens do not.
    /// </summary>
    public bool StartsWord(int id)
    {
        if (IdToToken(id) is not { } token || IsSpecialToken(id))
        {
            return false;
        }
        if (_addedById.ContainsKey(id))
        {
            return true;
        }
        return _boundary switch
        {
            WordBoundary.ByteLevelSpace => token.StartsWith('\u0120'),
            WordBoundary.ContinuingPrefix => !token.StartsWith(_boundaryMarker, StringComparison.Ordinal),
            WordBoundary.Metaspace => token.StartsWith(_boundaryMarker, StringComparison.Ordinal),
            _ => true,
        };
    }

    /// <summary>
    /// The piece as text without its word-boundary marker ('Ġsmall' → "small", '##s' → "s", '▁small' → "small"): how
    /// a predicted id becomes the word a reviewer sees. Byte-level pieces are decoded from their bytes (a piece that
    /// is part of a character gives U+FFFD).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">No token has this id.</exception>
    public string DecodeToken(int id)
    {
        var token = IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(id), id, "No token has this id.");
        if (_addedById.ContainsKey(id))
        {
            return token;
        }
        switch (_boundary)
        {
            case WordBoundary.ByteLevelSpace:
            {
                var bytes = new byte[token.Length];
                for (var i = 0; i < token.Length; i++)
                {
                    if (!ByteLevelAlphabet.TryGetByte(token[i], out bytes[i]))
                    {
                        return token;
                    }
                }
                var text = Encoding.UTF8.GetString(bytes);
                return text.StartsWith(' ') ? text[1..] : text;
            }
            case WordBoundary.ContinuingPrefix:
                return token.StartsWith(_boundaryMarker, StringComparison.Ordinal) ? token[_boundaryMarker.Length..] : token;
            case WordBoundary.Metaspace:
                return token.StartsWith(_boundaryMarker, StringComparison.Ordinal) ? token[_boundaryMarker.Length..] : token;
            default:
                return token;
        }
    }

    private (WordBoundary, string) DetectWordBoundary()
    {
        if (_pipeline.Algorithm is WordPiece wordPiece)
        {
            return (WordBoundary.ContinuingPrefix, wordPiece.ContinuingSubwordPrefix);
        }
        var preTokenizers = Flatten(_pipeline.PreTokenizer).ToList();
        if (preTokenizers.OfType<ByteLevelPreTokenizer>().Any() || _pipeline.Decoder is ByteLevelDecoder)
        {
            return (WordBoundary.ByteLevelSpace, "\u0120");
        }
        if (preTokenizers.OfType<MetaspacePreTokenizer>().FirstOrDefault() is { } metaspace)
        {
            return (WordBoundary.Metaspace, char.ConvertFromUtf32(metaspace.Replacement));
        }
        if (_pipeline.Algorithm is Bpe { Settings.ContinuingSubwordPrefix: { Length: > 0 } prefix })
        {
            return (WordBoundary.ContinuingPrefix, prefix);
        }
        return (WordBoundary.None, string.Empty);
    }

    private static IEnumerable<PreTokenizer> Flatten(PreTokenizer? preTokenizer) => preTokenizer switch
    {
        null => [],
        SequencePreTokenizer sequence => sequence.PreTokenizers.SelectMany(Flatten),
        _ => [preTokenizer],
    };

    private DraftEncoding EncodeDraft(ReadOnlySpan<char> text, ReadOnlySpan<char> pair, bool hasPair,
        EncodeOptions? options)
    {
        CheckLength(text, pair);
        var workspace = Workspace.For(text.Length + pair.Length);
        workspace.Pool.ReturnAll();
        return _pipeline.Encode(text, pair, hasPair, options ?? EncodeOptions.Default, workspace, null);
    }

    private EncodedText EncodeCore(ReadOnlySpan<char> text, ReadOnlySpan<char> pair, bool hasPair,
        EncodeOptions options)
    {
        CheckLength(text, pair);
        var workspace = Workspace.For(text.Length + pair.Length);
        workspace.Pool.ReturnAll();
        List<TokenizerPipeline.Overflow>? overflowing = options.Truncation is null ? null : [];
        var main = _pipeline.Encode(text, pair, hasPair, options, workspace, overflowing);
        return ToEncodedText(main, overflowing);
    }

    private void CheckLength(ReadOnlySpan<char> text, ReadOnlySpan<char> pair)
    {
        var longest = Math.Max(text.Length, pair.Length);
        if (longest > _maxInputLength)
        {
            throw new TokenizationException(
                $"The text has {longest.ToString("N0", CultureInfo.InvariantCulture)} characters, more than " +
                $"TokenizerOptions.MaxInputLength ({_maxInputLength.ToString("N0", CultureInfo.InvariantCulture)}); " +
                "split it, or load the tokenizer with a larger MaxInputLength.");
        }
    }

    private static EncodedText ToEncodedText(DraftEncoding draft, List<TokenizerPipeline.Overflow>? overflowing)
    {
        var n = draft.Count;
        var offsets = new Range[n];
        var words = new int?[n];
        var sequences = new int?[n];
        for (var i = 0; i < n; i++)
        {
            offsets[i] = new Range(draft.Starts[i], draft.Ends[i]);
            words[i] = draft.Words[i] < 0 ? null : draft.Words[i];
            sequences[i] = draft.SequenceIds[i] < 0 ? null : draft.SequenceIds[i];
        }
        IReadOnlyList<EncodedText> overflow = overflowing is { Count: > 0 }
            ? overflowing.Select(o => ToEncodedText(o.Encoding, o.Nested)).ToArray()
            : [];
        return new EncodedText(draft.Ids.AsSpan(0, n).ToArray(), draft.TypeIds.AsSpan(0, n).ToArray(),
            draft.Tokens.AsSpan(0, n).ToArray(), offsets, draft.Special.AsSpan(0, n).ToArray(), words, sequences,
            overflow);
    }

    private static int Write(DraftEncoding draft, Span<long> ids, Span<long> typeIds, Span<long> attentionMask)
    {
        var n = draft.Count;
        CheckRoom(n, ids.Length, nameof(ids));
        CheckRoom(n, typeIds.Length, nameof(typeIds));
        CheckRoom(n, attentionMask.Length, nameof(attentionMask));
        for (var i = 0; i < n; i++)
        {
            ids[i] = draft.Ids[i];
            typeIds[i] = draft.TypeIds[i];
        }
        attentionMask[..n].Fill(1);
        return n;
    }

    private static int Write(DraftEncoding draft, Span<int> ids, Span<int> typeIds, Span<int> attentionMask)
    {
        var n = draft.Count;
        CheckRoom(n, ids.Length, nameof(ids));
        CheckRoom(n, typeIds.Length, nameof(typeIds));
        CheckRoom(n, attentionMask.Length, nameof(attentionMask));
        draft.Ids.AsSpan(0, n).CopyTo(ids);
        draft.TypeIds.AsSpan(0, n).CopyTo(typeIds);
        attentionMask[..n].Fill(1);
        return n;
    }

    private static void CheckRoom(int needed, int available, string name)
    {
        if (available < needed)
        {
            throw new ArgumentException(
                $"The encoding has {needed} tokens but {name} has room for {available}; pass larger buffers or " +
                "truncate (EncodeOptions.Truncation).", name);
        }
    }
}
