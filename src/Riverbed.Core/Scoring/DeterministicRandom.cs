using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Riverbed.Scoring;

/// <summary>
/// A small seeded generator (SplitMix64) whose sequence is fixed by this code alone: every choice Riverbed makes
/// at random (which words to mask, which sentence pairs to compare) must be identical across runs, batch sizes,
/// worker counts, machines and .NET versions, which <see cref="Random"/> does not promise.
/// </summary>
public sealed class DeterministicRandom
{
    private ulong _state;

    public DeterministicRandom(ulong seed) => _state = seed;

    /// <summary>
    /// A generator seeded from the run's seed and the parts that identify what is being decided (example id, turn
    /// index, purpose), hashed with SHA-256 so that neighbouring ids give unrelated sequences.
    /// </summary>
    public static DeterministicRandom For(long globalSeed, string exampleId, int turnIndex, string purpose)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{globalSeed}\u001f{exampleId}\u001f{turnIndex}\u001f{purpose}");
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), digest);
        return new DeterministicRandom(BinaryPrimitives.ReadUInt64LittleEndian(digest));
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        var z = _state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform integer in [0, <paramref name="exclusiveMax"/>), without modulo bias.</summary>
    public int NextInt(int exclusiveMax)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exclusiveMax);
        var bound = (ulong)exclusiveMax;
        var limit = ulong.MaxValue - (ulong.MaxValue % bound);
        ulong value;
        do
        {
            value = NextUInt64();
        }
        while (value >= limit);
        return (int)(value % bound);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
