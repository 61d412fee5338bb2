using System.Text;
using Riverbed.Tokenization.Text;

namespace Riverbed.Tokenization.Algorithms;

/// <summary>
/// SentencePiece Unigram (HF's model): the segmentation of the word with the highest total log-probability (Viterbi
/// over every vocabulary piece starting at every character), with characters no piece covers scored as the
/// unknown token (lowest score minus 10) and consecutive unknowns fused into one. With byte fallback an unknown run
/// becomes its UTF-8 byte tokens <c>&lt;0xXX&gt;</c> instead. Ties keep the earlier candidate, as HF.
/// </summary>
internal sealed class Unigram : TokenizerAlgorithm
{
    private const double UnknownPenalty = 10.0;

    private readonly string[] _pieces;
    private readonly double[] _scores;
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _idsBySpan;
    private readonly PieceTrie _trie;
    private readonly double _unknownScore;
    private readonly int[] _byteIds;
    private readonly WordCache _cache;

    public Unigram(string[] pieces, double[] scores, int? unknownId, bool byteFallback, int cacheCapacity)
    {
        _pieces = pieces;
        _scores = scores;
        UnknownId = unknownId;
        ByteFallback = byteFallback;
        _ids = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        var minScore = double.PositiveInfinity;
        for (var id = 0; id < pieces.Length; id++)
        {
            _ids[pieces[id]] = id; // a repeated piece answers with its last id, as HF's map does
            minScore = Math.Min(minScore, scores[id]);
        }
        _idsBySpan = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        _trie = new PieceTrie(_ids);
        _unknownScore = minScore - UnknownPenalty;
        _byteIds = new int[256];
        for (var b = 0; b < 256; b++)
        {
            _byteIds[b] = _ids.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1;
        }
        _cache = new WordCache(cacheCapacity);
    }

    public int? UnknownId { get; }

    public bool ByteFallback { get; }

    public override IReadOnlyList<string?> Tokens => _pieces;

    public override int Count => _pieces.Length;

    public override int? TokenToId(string token) => _ids.TryGetValue(token, out var id) ? id : null;

    public override void Tokenize(ReadOnlySpan<char> word, ITokenSink sink)
    {
        if (_cache.TryGet(word, out var cached))
        {
            cached.WriteTo(sink);
            return;
        }
        var scratch = word.Length > Processing.Workspace.LargeInput ? new Scratch() : Scratch.Current;
        var recorder = scratch.Recorder;
        recorder.Reset();
        var recording = _cache.Enabled && word.Length <= WordCache.MaxWordLength;
        ITokenSink target = recording ? recorder : sink;

        var count = BestPath(word, scratch);
        // The path runs end to start; emit start to end, fusing runs of unknown pieces.
        for (var i = count - 1; i >= 0;)
        {
            var (start, end, id) = scratch.Path[i];
            if (UnknownId is { } unk && id == unk)
            {
                var runEnd = end;
                while (i - 1 >= 0 && scratch.Path[i - 1].Id == unk)
                {
                    i--;
                    runEnd = scratch.Path[i].End;
                }
                Emit(word, start, runEnd, target);
                i--;
                continue;
            }
            target.Add(id, _pieces[id], start, end);
            i--;
        }
        if (recording)
        {
            var result = recorder.ToCachedWord();
            _cache.Add(word, result);
            result.WriteTo(sink);
        }
    }

    // A fused unknown run is looked up again (HF does) and falls back to bytes or the unknown id.
    private void Emit(ReadOnlySpan<char> word, int start, int end, ITokenSink sink)
    {
        var text = word[start..end];
        if (_idsBySpan.TryGetValue(text, out var known))
        {
            sink.Add(known, _pieces[known], start, end);
            return;
        }
        var token = text.ToString();
        if (ByteFallback)
        {
            var bytes = Encoding.UTF8.GetBytes(token);
            var all = true;
            foreach (var b in bytes)
            {
                all &= _byteIds[b] >= 0;
            }
            if (all)
            {
                foreach (var b in bytes)
                {
                    sink.Add(_byteIds[b], _pieces[_byteIds[b]], start, end);
                }
                return;
            }
        }
        sink.Add(UnknownId!.Value, token, start, end);
    }

    private int BestPath(ReadOnlySpan<char> word, Scratch scratch)
    {
        var size = word.Length;
        scratch.Ensure(size + 1);
        var scores = scratch.Scores;
        var from = scratch.From;
        var ids = scratch.Ids;
        Array.Fill(from, -1, 0, size + 1);
        Array.Clear(scores, 0, size + 1);
        for (var startsAt = 0; startsAt < size;)
        {
            var characterLength = CodePoints.LengthAt(word, startsAt);
            var tillHere = scores[startsAt];
            var hasSingle = false;
            var node = 0;
            for (var position = startsAt; position < size; position++)
            {
                node = _trie.Child(node, word[position]);
                if (node < 0)
                {
                    break;
                }
                var id = _trie.Value(node);
                if (id < 0)
                {
                    continue;
                }
                var keyPosition = position + 1;
                var candidate = _scores[id] + tillHere;
                if (from[keyPosition] < 0 || candidate > scores[keyPosition])
                {
                    scores[keyPosition] = candidate;
                    from[keyPosition] = startsAt;
                    ids[keyPosition] = id;
                }
                hasSingle |= keyPosition - startsAt == characterLength;
            }
            if (!hasSingle)
            {
                var target = startsAt + characterLength;
                var candidate = _unknownScore + tillHere;
                if (from[target] < 0 || candidate > scores[target])
                {
                    if (UnknownId is not { } unk)
                    {
                        throw new TokenizationException(
                            "The Unigram model has no unknown token (unk_id is null) and the text has a character " +
                            $"none of its pieces covers ('{word.Slice(startsAt, characterLength).ToString()}').");
                    }
                    scores[target] = candidate;
                    from[target] = startsAt;
                    ids[target] = unk;
                }
            }
            startsAt += characterLength;
        }

        var count = 0;
        for (var end = size; end > 0;)
        {
            var start = from[end];
            scratch.AddPath(ref count, start, end, ids[end]);
            end = start;
        }
        return count;
    }

    private sealed class Scratch
    {
        [ThreadStatic]
        private static Scratch? t_current;

        public static Scratch Current => t_current ??= new Scratch();

        public double[] Scores = new double[64];
        public int[] From = new int[64];
        public int[] Ids = new int[64];
        public (int Start, int End, int Id)[] Path = new (int, int, int)[64];
        public readonly WordCache.Recorder Recorder = new();

        public void Ensure(int size)
        {
            if (size > Scores.Length)
            {
                var n = Math.Max(size, Scores.Length * 2);
                Scores = new double[n];
                From = new int[n];
                Ids = new int[n];
            }
        }

        public void AddPath(ref int count, int start, int end, int id)
        {
            if (count == Path.Length)
            {
                Array.Resize(ref Path, count * 2);
            }
            Path[count++] = (start, end, id);
        }
    }
}

/// <summary>
/// A trie over the UTF-16 units of the vocabulary pieces, flattened into sorted child arrays (the root indexes its
/// children directly), for common-prefix search during Viterbi.
/// </summary>
internal sealed class PieceTrie
{
    private readonly int[] _rootChildren = new int[65536];
    private readonly int[] _childStart;
    private readonly int[] _childCount;
    private readonly char[] _childChars;
    private readonly int[] _childNodes;
    private readonly int[] _values;

    public PieceTrie(Dictionary<string, int> pieces)
    {
        // Build with per-node sorted lists, then flatten.
        var children = new List<SortedList<char, int>> { new() };
        var values = new List<int> { -1 };
        foreach (var (piece, id) in pieces)
        {
            var node = 0;
            foreach (var c in piece)
            {
                if (!children[node].TryGetValue(c, out var child))
                {
                    child = children.Count;
                    children.Add([]);
                    values.Add(-1);
                    children[node].Add(c, child);
                }
                node = child;
            }
            if (piece.Length > 0)
            {
                values[node] = id;
            }
        }
        _values = [.. values];
        _childStart = new int[children.Count];
        _childCount = new int[children.Count];
        var total = children.Sum(c => c.Count);
        _childChars = new char[total];
        _childNodes = new int[total];
        var at = 0;
        for (var node = 0; node < children.Count; node++)
        {
            _childStart[node] = at;
            _childCount[node] = children[node].Count;
            foreach (var (c, child) in children[node])
            {
                _childChars[at] = c;
                _childNodes[at] = child;
                at++;
            }
        }
        Array.Fill(_rootChildren, -1);
        foreach (var (c, child) in children[0])
        {
            _rootChildren[c] = child;
        }
    }

    /// <summary>The child of <paramref name="node"/> along <paramref name="c"/>, or -1.</summary>
    public int Child(int node, char c)
    {
        if (node == 0)
        {
            return _rootChildren[c];
        }
        var index = Array.BinarySearch(_childChars, _childStart[node], _childCount[node], c);
        return index >= 0 ? _childNodes[index] : -1;
    }

    /// <summary>The piece id ending at <paramref name="node"/>, or -1.</summary>
    public int Value(int node) => _values[node];
}
