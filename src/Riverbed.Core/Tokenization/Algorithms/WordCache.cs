using System.Collections.Concurrent;

namespace Riverbed.Tokenization.Algorithms;

/// <summary>The tokens of one word, as a model produced them (offsets relative to the word).</summary>
internal sealed class CachedWord(int[] ids, int[] starts, int[] ends, string[] tokens)
{
    public int[] Ids { get; } = ids;

    public int[] Starts { get; } = starts;

    public int[] Ends { get; } = ends;

    public string[] Tokens { get; } = tokens;

    public void WriteTo(ITokenSink sink)
    {
        for (var i = 0; i < Ids.Length; i++)
        {
            sink.Add(Ids[i], Tokens[i], Starts[i], Ends[i]);
        }
    }
}

/// <summary>
/// A bounded, thread-safe word → tokens cache (like HF's: words are short and repeat, so most lookups hit). It stops
/// growing at its capacity instead of evicting, and skips words longer than <see cref="MaxWordLength"/>.
/// </summary>
internal sealed class WordCache
{
    public const int MaxWordLength = 256;

    private readonly int _capacity;
    private int _count; // ConcurrentDictionary.Count takes every lock; this is close enough for a bound
    private readonly ConcurrentDictionary<string, CachedWord> _words;
    private readonly ConcurrentDictionary<string, CachedWord>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    public WordCache(int capacity)
    {
        _capacity = capacity;
        _words = new ConcurrentDictionary<string, CachedWord>(StringComparer.Ordinal);
        _bySpan = _words.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public bool Enabled => _capacity > 0;

    public bool TryGet(ReadOnlySpan<char> word, out CachedWord cached)
    {
        if (!Enabled || word.Length > MaxWordLength)
        {
            cached = null!;
            return false;
        }
        return _bySpan.TryGetValue(word, out cached!);
    }

    public void Add(ReadOnlySpan<char> word, CachedWord cached)
    {
        if (!Enabled || word.Length > MaxWordLength || Volatile.Read(ref _count) >= _capacity)
        {
            return;
        }
        if (_bySpan.TryAdd(word, cached))
        {
            Interlocked.Increment(ref _count);
        }
    }

    /// <summary>Collects a model's output for one word so it can be cached.</summary>
    internal sealed class Recorder : ITokenSink
    {
        private readonly List<int> _ids = [];
        private readonly List<int> _starts = [];
        private readonly List<int> _ends = [];
        private readonly List<string> _tokens = [];

        public void Reset()
        {
            _ids.Clear();
            _starts.Clear();
            _ends.Clear();
            _tokens.Clear();
        }

        public void Add(int id, string token, int start, int end)
        {
            _ids.Add(id);
            _tokens.Add(token);
            _starts.Add(start);
            _ends.Add(end);
        }

        public CachedWord ToCachedWord() => new([.. _ids], [.. _starts], [.. _ends], [.. _tokens]);
    }
}
