namespace Riverbed.ModelKit;

/// <summary>
/// The random source of generated weights: SplitMix64, chosen because it is a few lines of integer arithmetic whose
/// output is fixed by its definition, so a seed names the same weights on every machine and .NET version
/// (System.Random's algorithm is an implementation detail that has changed before).
/// </summary>
internal sealed class SeededRandom
{
    private ulong _state;

    public SeededRandom(ulong seed) => _state = seed;

    /// <summary>A generator for one named tensor, independent of the order in which tensors are generated.</summary>
    public static SeededRandom ForStream(ulong seed, string streamName)
    {
        // FNV-1a over the UTF-16 code units of the name, mixed with the seed: adding a tensor never shifts the
        // values of the others.
        var hash = 14695981039346656037UL;
        foreach (var c in streamName)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        var mixer = new SeededRandom(seed ^ hash);
        return new SeededRandom(mixer.NextUInt64());
    }

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 significant bits, so the value is exact in float32.</summary>
    public float NextUnitFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform in [-range, range).</summary>
    public float NextSymmetric(float range) => ((NextUnitFloat() * 2f) - 1f) * range;

    public void Fill(Span<float> values, float range, float offset = 0f)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = offset + NextSymmetric(range);
        }
    }
}
