using Riverbed.Tokenization.Text;

namespace Riverbed.Tokenization.Algorithms;

/// <summary>
/// Byte-pair encoding (HF's BPE model): a word starts as one symbol per character (with the continuing-subword
/// prefix on all but the first and the end-of-word suffix on the last), unknown characters become their UTF-8 byte
/// tokens (byte fallback) or the unknown token, then the lowest-ranked adjacent pair is merged, leftmost first, until
/// no pair has a merge. Results are cached per word.
/// </summary>
internal sealed class Bpe : TokenizerAlgorithm
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocab;
    private readonly Dictionary<string, int> _vocabByString;
    private readonly string?[] _tokens;
    private readonly PairMap _merges; // (left << 32 | right) → (rank << 32 | merged id)
    private readonly int[] _byteIds; // id of "<0xXX>" per byte, -1 when absent
    private readonly WordCache _cache;

    public Bpe(Dictionary<string, int> vocab, string?[] tokens, Dictionary<long, long> merges, BpeSettings settings,
        int cacheCapacity)
    {
        _vocabByString = vocab;
        _vocab = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _tokens = tokens;
        _merges = new PairMap(merges);
        Settings = settings;
        _cache = new WordCache(cacheCapacity);
        _byteIds = new int[256];
        for (var b = 0; b < 256; b++)
        {
            _byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1;
        }
        UnknownId = settings.UnknownToken is { } unk && vocab.TryGetValue(unk, out var unkId) ? unkId : -1;
    }

    public BpeSettings Settings { get; }

    /// <summary>The id of the unknown token, or -1 when the model has none.</summary>
    public int UnknownId { get; }

    public override IReadOnlyList<string?> Tokens => _tokens;

    public override int Count => _vocabByString.Count;

    public override int? TokenToId(string token) => _vocabByString.TryGetValue(token, out var id) ? id : null;

    public override void Tokenize(ReadOnlySpan<char> word, ITokenSink sink)
    {
        if (Settings.IgnoreMerges && _vocab.TryGetValue(word, out var whole))
        {
            sink.Add(whole, _tokens[whole]!, 0, word.Length);
            return;
        }
        if (_cache.TryGet(word, out var cached))
        {
            cached.WriteTo(sink);
            return;
        }
        var scratch = word.Length > Processing.Workspace.LargeInput ? new Scratch() : Scratch.Current;
        var count = BuildSymbols(word, scratch);
        MergeAll(scratch, count);
        var recording = _cache.Enabled && word.Length <= WordCache.MaxWordLength;
        var recorder = scratch.Recorder;
        recorder.Reset();
        for (var i = 0; i < count; i++)
        {
            if (scratch.Removed[i])
            {
                continue;
            }
            var id = scratch.Ids[i];
            var token = _tokens[id]!;
            sink.Add(id, token, scratch.Starts[i], scratch.Ends[i]);
            if (recording)
            {
                recorder.Add(id, token, scratch.Starts[i], scratch.Ends[i]);
            }
        }
        if (recording)
        {
            _cache.Add(word, recorder.ToCachedWord());
        }
    }

    private int BuildSymbols(ReadOnlySpan<char> word, Scratch scratch)
    {
        var prefix = Settings.ContinuingSubwordPrefix;
        var suffix = Settings.EndOfWordSuffix;
        var count = 0;
        var unkId = -1;
        int unkStart = 0, unkEnd = 0;
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < word.Length;)
        {
            var start = i;
            i += CodePoints.LengthAt(word, i);
            var piece = word[start..i];
            var withAffixes = piece;
            if ((start > 0 && prefix.Length > 0) || (i == word.Length && suffix.Length > 0))
            {
                var buffer = scratch.Piece(prefix.Length + piece.Length + suffix.Length);
                var length = 0;
                if (start > 0)
                {
                    prefix.CopyTo(buffer);
                    length = prefix.Length;
                }
                piece.CopyTo(buffer[length..]);
                length += piece.Length;
                if (i == word.Length)
                {
                    suffix.CopyTo(buffer[length..]);
                    length += suffix.Length;
                }
                withAffixes = buffer[..length];
            }

            if (_vocab.TryGetValue(withAffixes, out var id))
            {
                if (unkId >= 0)
                {
                    Add(scratch, ref count, unkId, unkStart, unkEnd);
                    unkId = -1;
                }
                Add(scratch, ref count, id, start, i);
                continue;
            }
            if (Settings.ByteFallback && TryByteFallback(scratch, ref count, piece, start, i, bytes))
            {
                continue;
            }
            if (UnknownId >= 0)
            {
                if (unkId >= 0 && Settings.FuseUnknown)
                {
                    unkEnd = i;
                }
                else
                {
                    if (unkId >= 0)
                    {
                        Add(scratch, ref count, unkId, unkStart, unkEnd);
                    }
                    unkId = UnknownId;
                    unkStart = start;
                    unkEnd = i;
                }
            }
            else if (Settings.UnknownToken is not null)
            {
                throw new TokenizationException(
                    $"The BPE model's unknown token '{Settings.UnknownToken}' is not in its vocabulary, and the text has " +
                    $"a character it cannot encode ('{piece.ToString()}').");
            }
            // No unknown token at all: HF drops the character silently; so does this model (its ids must match).
        }
        if (unkId >= 0)
        {
            Add(scratch, ref count, unkId, unkStart, unkEnd);
        }
        return count;
    }

    // The character's UTF-8 bytes as <0xXX> tokens, each covering the whole character (HF gives each byte a one-byte
    // offset inside the character, which maps back to the same character span). HF takes the bytes of the piece with
    // its continuing prefix / end-of-word suffix attached; no released tokenizer combines those with byte fallback,
    // and the affix bytes would misplace every later offset, so this model uses the character alone.
    private bool TryByteFallback(Scratch scratch, ref int count, ReadOnlySpan<char> piece, int start, int end,
        Span<byte> bytes)
    {
        var position = 0;
        var n = CodePoints.WriteUtf8(CodePoints.Read(piece, ref position), bytes);
        for (var b = 0; b < n; b++)
        {
            if (_byteIds[bytes[b]] < 0)
            {
                return false;
            }
        }
        for (var b = 0; b < n; b++)
        {
            Add(scratch, ref count, _byteIds[bytes[b]], start, end);
        }
        return true;
    }

    private static void Add(Scratch scratch, ref int count, int id, int start, int end)
    {
        scratch.Ensure(count + 1);
        scratch.Ids[count] = id;
        scratch.Starts[count] = start;
        scratch.Ends[count] = end;
        scratch.Removed[count] = false;
        scratch.Previous[count] = count - 1;
        scratch.Next[count] = count + 1;
        count++;
    }

    // HF's Word::merge_all without dropout: a min-heap of candidate merges ordered by (rank, position); a popped
    // candidate is applied only if its position still holds a pair that merges into the same token.
    private void MergeAll(Scratch scratch, int count)
    {
        if (count < 2)
        {
            return;
        }
        scratch.Next[count - 1] = -1;
        var heap = scratch.Heap;
        heap.Clear();
        heap.Reserve(count);
        for (var i = 0; i + 1 < count; i++)
        {
            if (_merges.TryGetValue(PairKey(scratch.Ids[i], scratch.Ids[i + 1]), out var merge))
            {
                heap.Push((int)(merge >> 32), i, (int)merge);
            }
        }
        while (heap.TryPop(out _, out var position, out var newId))
        {
            if (scratch.Removed[position])
            {
                continue;
            }
            var next = scratch.Next[position];
            if (next < 0)
            {
                continue;
            }
            if (!_merges.TryGetValue(PairKey(scratch.Ids[position], scratch.Ids[next]), out var current)
                || (int)current != newId)
            {
                continue;
            }

            scratch.Ids[position] = newId;
            scratch.Ends[position] = scratch.Ends[next];
            scratch.Removed[next] = true;
            var after = scratch.Next[next];
            scratch.Next[position] = after;
            if (after >= 0)
            {
                scratch.Previous[after] = position;
            }

            var previous = scratch.Previous[position];
            if (previous >= 0
                && _merges.TryGetValue(PairKey(scratch.Ids[previous], newId), out var left))
            {
                heap.Push((int)(left >> 32), previous, (int)left);
            }
            if (after >= 0 && _merges.TryGetValue(PairKey(newId, scratch.Ids[after]), out var right))
            {
                heap.Push((int)(right >> 32), position, (int)right);
            }
        }
    }

    internal static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    private sealed class Scratch
    {
        [ThreadStatic]
        private static Scratch? t_current;

        public static Scratch Current => t_current ??= new Scratch();

        public int[] Ids = new int[64];
        public int[] Starts = new int[64];
        public int[] Ends = new int[64];
        public int[] Previous = new int[64];
        public int[] Next = new int[64];
        public bool[] Removed = new bool[64];
        public readonly MergeHeap Heap = new();
        public readonly WordCache.Recorder Recorder = new();
        private char[] _piece = new char[32];

        public Span<char> Piece(int length)
        {
            if (_piece.Length < length)
            {
                _piece = new char[length * 2];
            }
            return _piece;
        }

        public void Ensure(int size)
        {
            if (size <= Ids.Length)
            {
                return;
            }
            var n = Math.Max(size, Ids.Length * 2);
            Array.Resize(ref Ids, n);
            Array.Resize(ref Starts, n);
            Array.Resize(ref Ends, n);
            Array.Resize(ref Previous, n);
            Array.Resize(ref Next, n);
            Array.Resize(ref Removed, n);
        }
    }

    /// <summary>
    /// A 4-ary min-heap of merge candidates ordered by rank, then position (one 64-byte line holds a node's children,
    /// which keeps long words — millions of candidates — cache-friendly).
    /// </summary>
    private sealed class MergeHeap
    {
        private Entry[] _entries = new Entry[64];
        private int _count;

        private struct Entry
        {
            public long Key;   // rank << 32 | position
            public int NewId;
        }

        public void Clear() => _count = 0;

        public void Reserve(int capacity)
        {
            if (_entries.Length < capacity)
            {
                _entries = new Entry[capacity];
            }
        }

        public void Push(int rank, int position, int newId)
        {
            if (_count == _entries.Length)
            {
                Array.Resize(ref _entries, _count * 2);
            }
            var entries = _entries;
            var key = ((long)rank << 32) | (uint)position;
            var i = _count++;
            while (i > 0)
            {
                var parent = (i - 1) >> 2;
                if (entries[parent].Key <= key)
                {
                    break;
                }
                entries[i] = entries[parent];
                i = parent;
            }
            entries[i].Key = key;
            entries[i].NewId = newId;
        }

        public bool TryPop(out int rank, out int position, out int newId)
        {
            if (_count == 0)
            {
                rank = position = newId = 0;
                return false;
            }
            var entries = _entries;
            rank = (int)(entries[0].Key >> 32);
            position = (int)entries[0].Key;
            newId = entries[0].NewId;
            var last = entries[--_count];
            var i = 0;
            while (true)
            {
                var first = (4 * i) + 1;
                if (first >= _count)
                {
                    break;
                }
                var best = first;
                var end = Math.Min(first + 4, _count);
                for (var child = first + 1; child < end; child++)
                {
                    if (entries[child].Key < entries[best].Key)
                    {
                        best = child;
                    }
                }
                if (entries[best].Key >= last.Key)
                {
                    break;
                }
                entries[i] = entries[best];
                i = best;
            }
            entries[i] = last;
            return true;
        }
    }
}

/// <summary>The options of a BPE model, as tokenizer.json names them.</summary>
internal sealed record BpeSettings(
    string? UnknownToken,
    string ContinuingSubwordPrefix,
    string EndOfWordSuffix,
    bool FuseUnknown,
    bool ByteFallback,
    bool IgnoreMerges);
