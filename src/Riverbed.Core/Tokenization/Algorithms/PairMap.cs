using System.Runtime.CompilerServices;

namespace Riverbed.Tokenization.Algorithms;

/// <summary>
/// Read-only map from a pair of token ids to a 64-bit value (BPE's merges: pair → rank and merged id). Open
/// addressing with a multiplicative hash: <see cref="long.GetHashCode"/> folds the two ids together with XOR, which
/// makes (a, b) collide with (b, a) and with many other pairs, and turned long words into long probe chains.
/// </summary>
internal sealed class PairMap
{
    private const long Empty = -1;
    private readonly long[] _keys;
    private readonly long[] _values;
    private readonly int _shift;

    public PairMap(IReadOnlyDictionary<long, long> entries)
    {
        var capacity = 16;
        while (capacity < entries.Count * 2)
        {
            capacity *= 2;
        }
        _shift = 64 - int.Log2(capacity);
        _keys = new long[capacity];
        _values = new long[capacity];
        Array.Fill(_keys, Empty);
        foreach (var (key, value) in entries)
        {
            var slot = Slot(key);
            while (_keys[slot] != Empty)
            {
                slot = (slot + 1) & (capacity - 1);
            }
            _keys[slot] = key;
            _values[slot] = value;
        }
        Count = entries.Count;
    }

    public int Count { get; }

    public static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(long key, out long value)
    {
        var keys = _keys;
        var mask = keys.Length - 1;
        var slot = Slot(key);
        while (true)
        {
            var found = keys[slot];
            if (found == key)
            {
                value = _values[slot];
                return true;
            }
            if (found == Empty)
            {
                value = 0;
                return false;
            }
            slot = (slot + 1) & mask;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(long key) => (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15)) >> _shift);
}
