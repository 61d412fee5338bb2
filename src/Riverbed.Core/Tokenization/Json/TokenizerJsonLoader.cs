using System.Text.Json;
using Riverbed.Tokenization.Decoders;
using Riverbed.Tokenization.Algorithms;
using Riverbed.Tokenization.Normalizers;
using Riverbed.Tokenization.PreTokenizers;
using Riverbed.Tokenization.Processing;
using Riverbed.Tokenization.Text;
using Riverbed.Tokenization.Unicode;
using static Riverbed.Tokenization.Json.JsonReading;

namespace Riverbed.Tokenization.Json;

/// <summary>Everything read from a tokenizer.json.</summary>
internal sealed record LoadedTokenizer(
    TokenizerPipeline Pipeline,
    IReadOnlyList<AddedToken> AddedTokens,
    TruncationOptions? Truncation);

/// <summary>
/// Reads HF's tokenizer.json format (version 1.0) into a <see cref="TokenizerPipeline"/>, refusing anything it cannot
/// reproduce exactly: unknown component types, inconsistent vocabularies and merges, ids out of range, added tokens
/// whose id disagrees with the vocabulary, malformed regexes and charsmaps.
/// </summary>
internal sealed class TokenizerJsonLoader
{
    private const string SupportedNormalizers =
        "BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, Replace, Prepend, Precompiled, Nmt, " +
        "ByteLevel, Sequence";
    private const string SupportedPreTokenizers =
        "ByteLevel, BertPreTokenizer, Whitespace, WhitespaceSplit, Metaspace, Split, Punctuation, Digits, " +
        "CharDelimiterSplit, Sequence";
    private const string SupportedModels = "BPE, WordPiece, Unigram, WordLevel";
    private const string SupportedProcessors =
        "TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence";
    private const string SupportedDecoders =
        "ByteLevel, WordPiece, Metaspace, ByteFallback, Fuse, Strip, Replace, BPEDecoder, CTC, Sequence";

    private readonly JsonReading _json;
    private readonly TokenizerOptions _options;
    private Dictionary<string, int>? _tokenIds; // model vocabulary plus added tokens, for the post-processor checks
    private int _vocabularySize;

    private TokenizerJsonLoader(string source, TokenizerOptions options)
    {
        _json = new JsonReading(source);
        _options = options;
    }

    public static LoadedTokenizer Load(ReadOnlyMemory<byte> utf8Json, string source, TokenizerOptions options)
    {
        var loader = new TokenizerJsonLoader(source, options);
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json.Span))
        {
            var offset = 0;
            try
            {
                _ = new System.Text.UTF8Encoding(false, true).GetCharCount(utf8Json.Span);
            }
            catch (System.Text.DecoderFallbackException error)
            {
                offset = error.Index;
            }
            throw new TokenizerLoadException(
                $"{source}: not valid UTF-8 (first bad byte at offset {offset}); a tokenizer.json is UTF-8 JSON.")
            {
                JsonPath = "$",
            };
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException error)
        {
            throw new TokenizerLoadException(
                $"'{source}' {JsonErrors.NotValidJson(error)}", error) { JsonPath = "$" };
        }
        using (document)
        {
            return loader.Read(document.RootElement);
        }
    }

    private LoadedTokenizer Read(JsonElement root)
    {
        const string Path = "$";
        _json.RequireObject(root, Path);
        if (_json.OptionalString(root, "version", Path) is { } version && version != "1.0")
        {
            throw _json.Error(Child(Path, "version"), $"version \"{version}\" is not supported; expected \"1.0\".");
        }

        var normalizer = Optional(root, "normalizer") is { } n ? ReadNormalizer(n, "$.normalizer") : null;
        var preTokenizer = Optional(root, "pre_tokenizer") is { } p ? ReadPreTokenizer(p, "$.pre_tokenizer") : null;
        var model = ReadModel(_json.Required(root, "model", Path), "$.model");
        var added = ReadAddedTokens(root, model);

        _tokenIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < model.Tokens.Count; id++)
        {
            if (model.Tokens[id] is { } token)
            {
                _tokenIds.TryAdd(token, id);
            }
        }
        foreach (var token in added)
        {
            _tokenIds[token.Content] = token.Id;
        }
        _vocabularySize = Math.Max(model.Tokens.Count, added.Count == 0 ? 0 : added.Max(t => t.Id) + 1);

        var processor = Optional(root, "post_processor") is { } pp ? ReadProcessor(pp, "$.post_processor") : null;
        var decoder = Optional(root, "decoder") is { } d ? ReadDecoder(d, "$.decoder") : null;
        var truncation = Optional(root, "truncation") is { } t ? ReadTruncation(t, "$.truncation") : null;

        var pipeline = new TokenizerPipeline(normalizer, preTokenizer, model, new AddedVocabulary(added, normalizer),
            processor, decoder);
        return new LoadedTokenizer(pipeline, added, truncation);
    }

    private string TypeOf(JsonElement obj, string path, string supported)
    {
        _json.RequireObject(obj, path);
        return _json.OptionalString(obj, "type", path)
            ?? throw _json.Error(Child(path, "type"), $"is missing; expected one of {supported}.");
    }

    private TokenizerLoadException Unsupported(string path, string kind, string type, string supported) =>
        _json.Error(Child(path, "type"), $"{kind} \"{type}\" is not supported; supported: {supported}.");

    // ---------------------------------------------------------------- normalizers

    private Normalizer ReadNormalizer(JsonElement obj, string path)
    {
        var type = TypeOf(obj, path, SupportedNormalizers);
        switch (type)
        {
            case "BertNormalizer":
            {
                var lowercase = _json.Bool(obj, "lowercase", path, true);
                return new BertNormalizer(
                    _json.Bool(obj, "clean_text", path, true),
                    _json.Bool(obj, "handle_chinese_chars", path, true),
                    _json.OptionalBool(obj, "strip_accents", path) ?? lowercase,
                    lowercase);
            }
            case "NFC":
                return new UnicodeFormNormalizer(NormalizationKind.Nfc);
            case "NFD":
                return new UnicodeFormNormalizer(NormalizationKind.Nfd);
            case "NFKC":
                return new UnicodeFormNormalizer(NormalizationKind.Nfkc);
            case "NFKD":
                return new UnicodeFormNormalizer(NormalizationKind.Nfkd);
            case "Lowercase":
                return new LowercaseNormalizer();
            case "StripAccents":
                return new StripAccentsNormalizer();
            case "Nmt":
                return new NmtNormalizer();
            case "ByteLevel":
                return new ByteLevelNormalizer();
            case "Strip":
                return new StripNormalizer(_json.Bool(obj, "strip_left", path, true),
                    _json.Bool(obj, "strip_right", path, true));
            case "Prepend":
                return new PrependNormalizer(_json.RequiredString(obj, "prepend", path));
            case "Replace":
                return new ReplaceNormalizer(ReadPattern(obj, path), _json.RequiredString(obj, "content", path));
            case "Precompiled":
                return ReadPrecompiled(obj, path);
            case "Sequence":
            {
                var itemsPath = Child(path, "normalizers");
                var items = _json.RequireArray(_json.Required(obj, "normalizers", path), itemsPath);
                var list = new List<Normalizer>();
                var i = 0;
                foreach (var item in items.EnumerateArray())
                {
                    list.Add(ReadNormalizer(item, Item(itemsPath, i++)));
                }
                return new SequenceNormalizer(list);
            }
            default:
                throw Unsupported(path, "normalizer", type, SupportedNormalizers);
        }
    }

    private PrecompiledNormalizer ReadPrecompiled(JsonElement obj, string path)
    {
        var charsmapPath = Child(path, "precompiled_charsmap");
        var encoded = _json.RequiredString(obj, "precompiled_charsmap", path);
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(encoded);
        }
        catch (FormatException)
        {
            throw _json.Error(charsmapPath, "is not valid base64.");
        }
        return PrecompiledNormalizer.TryCreate(bytes, out var problem)
            ?? throw _json.Error(charsmapPath, $"is not a SentencePiece charsmap: {problem}.");
    }

    private TextPattern ReadPattern(JsonElement obj, string path)
    {
        var patternPath = Child(path, "pattern");
        var pattern = _json.RequireObject(_json.Required(obj, "pattern", path), patternPath);
        if (Optional(pattern, "String") is { } literal)
        {
            return TextPattern.Literal(_json.String(literal, Child(patternPath, "String")));
        }
        if (Optional(pattern, "Regex") is { } regex)
        {
            var regexPath = Child(patternPath, "Regex");
            var source = _json.String(regex, regexPath);
            try
            {
                return TextPattern.FromRegex(source, _options.RegexTimeout);
            }
            catch (ArgumentException error)
            {
                throw _json.Error(regexPath, $"/{source}/ is not a regex .NET can run: {error.Message}");
            }
        }
        throw _json.Error(patternPath, "expected {\"String\": ...} or {\"Regex\": ...}.");
    }

    // ---------------------------------------------------------------- pre-tokenizers

    private PreTokenizer ReadPreTokenizer(JsonElement obj, string path)
    {
        var type = TypeOf(obj, path, SupportedPreTokenizers);
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelPreTokenizer(_json.Bool(obj, "add_prefix_space", path, true),
                    _json.Bool(obj, "use_regex", path, true));
            case "BertPreTokenizer":
                return new BertPreTokenizer();
            case "Whitespace":
                return new WhitespacePreTokenizer();
            case "WhitespaceSplit":
                return new WhitespaceSplitPreTokenizer();
            case "Metaspace":
            {
                var (replacement, scheme, split) = ReadMetaspace(obj, path);
                return new MetaspacePreTokenizer(replacement, scheme, split);
            }
            case "Split":
                return new SplitPreTokenizer(ReadPattern(obj, path), ReadBehavior(obj, path, null),
                    _json.Bool(obj, "invert", path, false));
            case "Punctuation":
                return new PunctuationPreTokenizer(ReadBehavior(obj, path, SplitBehavior.Isolated));
            case "Digits":
                return new DigitsPreTokenizer(_json.Bool(obj, "individual_digits", path, false));
            case "CharDelimiterSplit":
                return new CharDelimiterPreTokenizer(_json.Char(_json.Required(obj, "delimiter", path),
                    Child(path, "delimiter")));
            case "Sequence":
            {
                var itemsPath = Child(path, "pretokenizers");
                var items = _json.RequireArray(_json.Required(obj, "pretokenizers", path), itemsPath);
                var list = new List<PreTokenizer>();
                var i = 0;
                foreach (var item in items.EnumerateArray())
                {
                    list.Add(ReadPreTokenizer(item, Item(itemsPath, i++)));
                }
                return new SequencePreTokenizer(list);
            }
            default:
                throw Unsupported(path, "pre-tokenizer", type, SupportedPreTokenizers);
        }
    }

    private SplitBehavior ReadBehavior(JsonElement obj, string path, SplitBehavior? fallback)
    {
        if (fallback is null)
        {
            _ = _json.Required(obj, "behavior", path);
        }
        return _json.Enum(obj, "behavior", path, fallback ?? SplitBehavior.Isolated,
            ("Removed", SplitBehavior.Removed), ("Isolated", SplitBehavior.Isolated),
            ("MergedWithPrevious", SplitBehavior.MergedWithPrevious), ("MergedWithNext", SplitBehavior.MergedWithNext),
            ("Contiguous", SplitBehavior.Contiguous));
    }

    private (int Replacement, PrependScheme Scheme, bool Split) ReadMetaspace(JsonElement obj, string path)
    {
        var replacement = _json.Char(_json.Required(obj, "replacement", path), Child(path, "replacement"));
        var scheme = _json.Enum(obj, "prepend_scheme", path, PrependScheme.Always,
            ("always", PrependScheme.Always), ("first", PrependScheme.First), ("never", PrependScheme.Never));
        if (_json.OptionalBool(obj, "add_prefix_space", path) == false)
        {
            if (Optional(obj, "prepend_scheme") is not null && scheme != PrependScheme.Never)
            {
                throw _json.Error(Child(path, "add_prefix_space"),
                    "false contradicts prepend_scheme; set prepend_scheme to \"never\" or drop add_prefix_space.");
            }
            scheme = PrependScheme.Never;
        }
        return (replacement, scheme, _json.Bool(obj, "split", path, true));
    }

    // ---------------------------------------------------------------- models

    private TokenizerAlgorithm ReadModel(JsonElement obj, string path)
    {
        _json.RequireObject(obj, path);
        var type = _json.OptionalString(obj, "type", path) ?? InferModelType(obj);
        return type switch
        {
            "BPE" => ReadBpe(obj, path),
            "WordPiece" => ReadWordPiece(obj, path),
            "Unigram" => ReadUnigram(obj, path),
            "WordLevel" => ReadWordLevel(obj, path),
            _ => throw Unsupported(path, "model", type, SupportedModels),
        };
    }

    // Files written before models carried a "type" are recognized by their fields, as HF does.
    private static string InferModelType(JsonElement obj)
    {
        if (obj.TryGetProperty("merges", out _))
        {
            return "BPE";
        }
        if (obj.TryGetProperty("vocab", out var vocab) && vocab.ValueKind == JsonValueKind.Array)
        {
            return "Unigram";
        }
        return obj.TryGetProperty("continuing_subword_prefix", out _) || obj.TryGetProperty("max_input_chars_per_word", out _)
            ? "WordPiece"
            : "WordLevel";
    }

    /// <summary>A token → id object; returns the map and the id → token table.</summary>
    private (Dictionary<string, int> Vocab, string?[] Tokens) ReadVocab(JsonElement obj, string path)
    {
        var vocabPath = Child(path, "vocab");
        var vocab = _json.RequireObject(_json.Required(obj, "vocab", path), vocabPath);
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        var maxId = -1;
        foreach (var property in vocab.EnumerateObject())
        {
            var entryPath = $"{vocabPath}[\"{property.Name}\"]";
            var id = _json.Int(property.Value, entryPath, 0, int.MaxValue);
            if (id >= _options.MaxVocabularySize)
            {
                throw _json.Error(entryPath,
                    $"id {Format(id)} is not below TokenizerOptions.MaxVocabularySize ({Format(_options.MaxVocabularySize)}).");
            }
            if (!map.TryAdd(property.Name, id))
            {
                throw _json.Error(entryPath, "appears twice in the vocabulary.");
            }
            if (map.Count > _options.MaxVocabularySize)
            {
                throw _json.Error(vocabPath,
                    $"has more than {Format(_options.MaxVocabularySize)} entries (TokenizerOptions.MaxVocabularySize).");
            }
            maxId = Math.Max(maxId, id);
        }
        var tokens = new string?[maxId + 1];
        foreach (var (token, id) in map)
        {
            if (tokens[id] is { } other)
            {
                throw _json.Error(vocabPath, $"\"{other}\" and \"{token}\" both have id {id}.");
            }
            tokens[id] = token;
        }
        return (map, tokens);
    }

    private Bpe ReadBpe(JsonElement obj, string path)
    {
        if (Optional(obj, "dropout") is { } dropout && _json.Double(dropout, Child(path, "dropout")) != 0)
        {
            throw _json.Error(Child(path, "dropout"),
                "BPE dropout randomizes merges (a training-time regularizer) and would make encodings " +
                "non-deterministic; set it to null.");
        }
        var (vocab, tokens) = ReadVocab(obj, path);
        var settings = new BpeSettings(
            _json.OptionalString(obj, "unk_token", path),
            _json.OptionalString(obj, "continuing_subword_prefix", path) ?? string.Empty,
            _json.OptionalString(obj, "end_of_word_suffix", path) ?? string.Empty,
            _json.Bool(obj, "fuse_unk", path, false),
            _json.Bool(obj, "byte_fallback", path, false),
            _json.Bool(obj, "ignore_merges", path, false));

        var mergesPath = Child(path, "merges");
        var merges = _json.RequireArray(_json.Required(obj, "merges", path), mergesPath);
        var map = new Dictionary<long, long>();
        var rank = 0;
        var index = -1;
        var prefix = settings.ContinuingSubwordPrefix;
        foreach (var merge in merges.EnumerateArray())
        {
            index++;
            var mergePath = Item(mergesPath, index);
            string left, right;
            if (merge.ValueKind == JsonValueKind.String)
            {
                var line = merge.GetString()!;
                if (line.StartsWith("#version", StringComparison.Ordinal))
                {
                    continue;
                }
                var parts = line.Split(' ');
                if (parts.Length != 2)
                {
                    throw _json.Error(mergePath, $"\"{line}\" is not two tokens separated by one space.");
                }
                (left, right) = (parts[0], parts[1]);
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
            {
                left = _json.String(merge[0], Item(mergePath, 0));
                right = _json.String(merge[1], Item(mergePath, 1));
            }
            else
            {
                throw _json.Error(mergePath,
                    $"expected \"left right\" or [\"left\", \"right\"], found {Describe(merge)}.");
            }
            if (!vocab.TryGetValue(left, out var leftId))
            {
                throw _json.Error(mergePath, $"merges \"{left}\", which is not in the vocabulary.");
            }
            if (!vocab.TryGetValue(right, out var rightId))
            {
                throw _json.Error(mergePath, $"merges \"{right}\", which is not in the vocabulary.");
            }
            if (right.Length < prefix.Length)
            {
                throw _json.Error(mergePath, $"\"{right}\" is shorter than the continuing prefix \"{prefix}\".");
            }
            var merged = left + right[prefix.Length..];
            if (!vocab.TryGetValue(merged, out var mergedId))
            {
                throw _json.Error(mergePath, $"produces \"{merged}\", which is not in the vocabulary.");
            }
            map[Bpe.PairKey(leftId, rightId)] = ((long)rank << 32) | (uint)mergedId;
            rank++;
        }
        return new Bpe(vocab, tokens, map, settings, _options.WordCacheCapacity);
    }

    private WordPiece ReadWordPiece(JsonElement obj, string path)
    {
        var (vocab, tokens) = ReadVocab(obj, path);
        return new WordPiece(vocab, tokens,
            _json.OptionalString(obj, "unk_token", path) ?? "[UNK]",
            _json.OptionalString(obj, "continuing_subword_prefix", path) ?? "##",
            _json.Int(obj, "max_input_chars_per_word", path, 100, 0, int.MaxValue));
    }

    private WordLevel ReadWordLevel(JsonElement obj, string path)
    {
        var (vocab, tokens) = ReadVocab(obj, path);
        return new WordLevel(vocab, tokens, _json.OptionalString(obj, "unk_token", path) ?? "<unk>");
    }

    private Unigram ReadUnigram(JsonElement obj, string path)
    {
        var vocabPath = Child(path, "vocab");
        var vocab = _json.RequireArray(_json.Required(obj, "vocab", path), vocabPath);
        var count = vocab.GetArrayLength();
        if (count > _options.MaxVocabularySize)
        {
            throw _json.Error(vocabPath,
                $"has {Format(count)} entries, more than {Format(_options.MaxVocabularySize)} (TokenizerOptions.MaxVocabularySize).");
        }
        var pieces = new string[count];
        var scores = new double[count];
        var seen = new Dictionary<string, int>(count, StringComparer.Ordinal);
        var i = 0;
        foreach (var entry in vocab.EnumerateArray())
        {
            var entryPath = Item(vocabPath, i);
            if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != 2)
            {
                throw _json.Error(entryPath, $"expected [piece, score], found {Describe(entry)}.");
            }
            pieces[i] = _json.String(entry[0], Item(entryPath, 0));
            scores[i] = _json.Double(entry[1], Item(entryPath, 1));
            if (pieces[i].Length == 0)
            {
                throw _json.Error(Item(entryPath, 0), "is an empty piece.");
            }
            if (!seen.TryAdd(pieces[i], i))
            {
                throw _json.Error(Item(entryPath, 0), $"\"{pieces[i]}\" repeats entry {seen[pieces[i]]}.");
            }
            i++;
        }
        int? unkId = Optional(obj, "unk_id") is { } unk
            ? _json.Int(unk, Child(path, "unk_id"), 0, Math.Max(0, count - 1))
            : null;
        if (unkId is not null && count == 0)
        {
            throw _json.Error(vocabPath, "is empty but unk_id needs at least the unknown piece.");
        }
        return new Unigram(pieces, scores, unkId, _json.Bool(obj, "byte_fallback", path, false),
            _options.WordCacheCapacity);
    }

    // ---------------------------------------------------------------- added tokens

    // HF assigns added-token ids itself (the model's id when the content is in the vocabulary, otherwise the next id
    // after the model's); the "id" in the file must agree, or the model was trained with other ids than HF would use.
    private List<AddedToken> ReadAddedTokens(JsonElement root, TokenizerAlgorithm model)
    {
        var result = new List<AddedToken>();
        if (Optional(root, "added_tokens") is not { } tokens)
        {
            return result;
        }
        const string ListPath = "$.added_tokens";
        _json.RequireArray(tokens, ListPath);
        var byContent = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        var nextId = model.Count;
        var index = -1;
        foreach (var item in tokens.EnumerateArray())
        {
            index++;
            var path = Item(ListPath, index);
            _json.RequireObject(item, path);
            var id = _json.Int(_json.Required(item, "id", path), Child(path, "id"), 0, _options.MaxVocabularySize - 1);
            var content = _json.RequiredString(item, "content", path);
            var special = _json.Bool(item, "special", path, false);
            var token = new AddedToken(id, content,
                _json.Bool(item, "single_word", path, false),
                _json.Bool(item, "lstrip", path, false),
                _json.Bool(item, "rstrip", path, false),
                _json.Bool(item, "normalized", path, !special),
                special);
            if (content.Length == 0)
            {
                throw _json.Error(Child(path, "content"), "is empty.");
            }
            if (byContent.TryGetValue(content, out var earlier))
            {
                if (earlier == token)
                {
                    continue; // an exact repeat, ignored as HF does
                }
                throw _json.Error(path, $"\"{content}\" is declared twice with different settings or ids.");
            }
            var expected = model.TokenToId(content) ?? nextId++;
            if (expected != id)
            {
                throw _json.Error(Child(path, "id"),
                    $"\"{content}\" has id {id} here, but the vocabulary gives it id {expected}; the file is " +
                    "inconsistent (HF would use " + expected + ").");
            }
            byContent[content] = token;
            result.Add(token);
        }
        return result;
    }

    // ---------------------------------------------------------------- post-processors

    private PostProcessor ReadProcessor(JsonElement obj, string path)
    {
        var type = TypeOf(obj, path, SupportedProcessors);
        switch (type)
        {
            case "TemplateProcessing":
                return ReadTemplate(obj, path);
            case "BertProcessing":
                return new BertProcessor(ReadTokenPair(obj, "sep", path), ReadTokenPair(obj, "cls", path));
            case "RobertaProcessing":
                return new RobertaProcessor(ReadTokenPair(obj, "sep", path), ReadTokenPair(obj, "cls", path),
                    _json.Bool(obj, "trim_offsets", path, true), _json.Bool(obj, "add_prefix_space", path, true));
            case "ByteLevel":
                return new ByteLevelProcessor(_json.Bool(obj, "trim_offsets", path, true),
                    _json.Bool(obj, "add_prefix_space", path, true));
            case "Sequence":
            {
                var itemsPath = Child(path, "processors");
                var items = _json.RequireArray(_json.Required(obj, "processors", path), itemsPath);
                var list = new List<PostProcessor>();
                var i = 0;
                foreach (var item in items.EnumerateArray())
                {
                    list.Add(ReadProcessor(item, Item(itemsPath, i++)));
                }
                return new SequenceProcessor(list);
            }
            default:
                throw Unsupported(path, "post-processor", type, SupportedProcessors);
        }
    }

    private (string Token, int Id) ReadTokenPair(JsonElement obj, string name, string path)
    {
        var pairPath = Child(path, name);
        var pair = _json.RequireArray(_json.Required(obj, name, path), pairPath);
        if (pair.GetArrayLength() != 2)
        {
            throw _json.Error(pairPath, "expected [token, id].");
        }
        var token = _json.String(pair[0], Item(pairPath, 0));
        var id = CheckId(_json.Int(pair[1], Item(pairPath, 1), 0, int.MaxValue), Item(pairPath, 1));
        return (token, id);
    }

    private int CheckId(int id, string path)
    {
        if (id >= _vocabularySize)
        {
            throw _json.Error(path, $"id {id} is outside the vocabulary (size {Format(_vocabularySize)}).");
        }
        return id;
    }

    private TemplateProcessor ReadTemplate(JsonElement obj, string path)
    {
        var specialsPath = Child(path, "special_tokens");
        var specials = new Dictionary<string, TemplateSpecialToken>(StringComparer.Ordinal);
        if (Optional(obj, "special_tokens") is { } specialTokens)
        {
            _json.RequireObject(specialTokens, specialsPath);
            foreach (var property in specialTokens.EnumerateObject())
            {
                var tokenPath = $"{specialsPath}[\"{property.Name}\"]";
                _json.RequireObject(property.Value, tokenPath);
                var idsPath = Child(tokenPath, "ids");
                var ids = _json.RequireArray(_json.Required(property.Value, "ids", tokenPath), idsPath);
                var tokensPath = Child(tokenPath, "tokens");
                var tokens = _json.RequireArray(_json.Required(property.Value, "tokens", tokenPath), tokensPath);
                if (ids.GetArrayLength() != tokens.GetArrayLength())
                {
                    throw _json.Error(tokenPath, "has different numbers of ids and tokens.");
                }
                var idList = ids.EnumerateArray()
                    .Select((e, i) => CheckId(_json.Int(e, Item(idsPath, i), 0, int.MaxValue), Item(idsPath, i)))
                    .ToArray();
                var tokenList = tokens.EnumerateArray().Select((e, i) => _json.String(e, Item(tokensPath, i))).ToArray();
                specials[property.Name] = new TemplateSpecialToken(property.Name, idList, tokenList);
            }
        }
        var single = ReadTemplatePieces(obj, "single", path, specials, pair: false);
        var pairPieces = ReadTemplatePieces(obj, "pair", path, specials, pair: true);
        return new TemplateProcessor(single, pairPieces);
    }

    private List<TemplatePiece> ReadTemplatePieces(JsonElement obj, string name, string path,
        Dictionary<string, TemplateSpecialToken> specials, bool pair)
    {
        var piecesPath = Child(path, name);
        var pieces = _json.RequireArray(_json.Required(obj, name, path), piecesPath);
        var result = new List<TemplatePiece>();
        var i = 0;
        foreach (var piece in pieces.EnumerateArray())
        {
            var piecePath = Item(piecesPath, i++);
            _json.RequireObject(piece, piecePath);
            if (Optional(piece, "Sequence") is { } sequence)
            {
                var sequencePath = Child(piecePath, "Sequence");
                var id = _json.Enum(sequence, "id", sequencePath, -1, ("A", 0), ("B", 1));
                if (id < 0)
                {
                    throw _json.Error(Child(sequencePath, "id"), "is required (\"A\" or \"B\").");
                }
                result.Add(new TemplatePiece(true, id, null,
                    _json.Int(sequence, "type_id", sequencePath, 0, 0, int.MaxValue)));
            }
            else if (Optional(piece, "SpecialToken") is { } special)
            {
                var specialPath = Child(piecePath, "SpecialToken");
                var id = _json.RequiredString(special, "id", specialPath);
                if (!specials.TryGetValue(id, out var token))
                {
                    throw _json.Error(Child(specialPath, "id"), $"\"{id}\" is not declared in special_tokens.");
                }
                result.Add(new TemplatePiece(false, 0, token,
                    _json.Int(special, "type_id", specialPath, 0, 0, int.MaxValue)));
            }
            else
            {
                throw _json.Error(piecePath, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}.");
            }
        }
        if (pair && !(result.Any(p => p.IsSequence && p.Sequence == 0) && result.Any(p => p.IsSequence && p.Sequence == 1)))
        {
            throw _json.Error(piecesPath, "the pair template must use both sequences ($A and $B).");
        }
        if (!pair && result.Any(p => p.IsSequence && p.Sequence == 1))
        {
            throw _json.Error(piecesPath, "the single template cannot use $B.");
        }
        return result;
    }

    // ---------------------------------------------------------------- decoders

    private Decoder ReadDecoder(JsonElement obj, string path)
    {
        var type = TypeOf(obj, path, SupportedDecoders);
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelDecoder();
            case "WordPiece":
                return new WordPieceDecoder(_json.OptionalString(obj, "prefix", path) ?? "##",
                    _json.Bool(obj, "cleanup", path, true));
            case "Metaspace":
            {
                var (replacement, scheme, _) = ReadMetaspace(obj, path);
                return new MetaspaceDecoder(replacement, scheme != PrependScheme.Never);
            }
            case "ByteFallback":
                return new ByteFallbackDecoder();
            case "Fuse":
                return new FuseDecoder();
            case "Strip":
                return new StripDecoder(_json.Char(_json.Required(obj, "content", path), Child(path, "content")),
                    _json.Int(obj, "start", path, 0, 0, int.MaxValue), _json.Int(obj, "stop", path, 0, 0, int.MaxValue));
            case "Replace":
                return new ReplaceDecoder(ReadPattern(obj, path), _json.RequiredString(obj, "content", path));
            case "BPEDecoder":
                return new BpeDecoder(_json.OptionalString(obj, "suffix", path) ?? "</w>");
            case "CTC":
                return new CtcDecoder(_json.OptionalString(obj, "pad_token", path) ?? "<pad>",
                    _json.OptionalString(obj, "word_delimiter_token", path) ?? "|",
                    _json.Bool(obj, "cleanup", path, true));
            case "Sequence":
            {
                var itemsPath = Child(path, "decoders");
                var items = _json.RequireArray(_json.Required(obj, "decoders", path), itemsPath);
                var list = new List<Decoder>();
                var i = 0;
                foreach (var item in items.EnumerateArray())
                {
                    list.Add(ReadDecoder(item, Item(itemsPath, i++)));
                }
                return new SequenceDecoder(list);
            }
            default:
                throw Unsupported(path, "decoder", type, SupportedDecoders);
        }
    }

    // ---------------------------------------------------------------- truncation

    private TruncationOptions ReadTruncation(JsonElement obj, string path)
    {
        _json.RequireObject(obj, path);
        return new TruncationOptions
        {
            MaxLength = _json.Int(_json.Required(obj, "max_length", path), Child(path, "max_length"), 0, int.MaxValue),
            Stride = _json.Int(obj, "stride", path, 0, 0, int.MaxValue),
            Strategy = _json.Enum(obj, "strategy", path, TruncationStrategy.LongestFirst,
                ("LongestFirst", TruncationStrategy.LongestFirst), ("OnlyFirst", TruncationStrategy.OnlyFirst),
                ("OnlySecond", TruncationStrategy.OnlySecond)),
            Direction = _json.Enum(obj, "direction", path, TruncationDirection.Right,
                ("Right", TruncationDirection.Right), ("Left", TruncationDirection.Left)),
        };
    }
}
