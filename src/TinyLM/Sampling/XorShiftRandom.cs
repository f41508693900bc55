namespace TinyLM.Sampling;

/// <summary>
/// The sampler's random number generator: xorshift64* (Vigna, 2016, "An experimental exploration of
/// Marsaglia's xorshift generators, scrambled"), as llama2.c's <c>random_u32</c>, with the seed
/// passed through SplitMix64 so that every seed, including 0, gives a good non-zero state.
/// </summary>
/// <remarks>
/// Defined only by 64-bit integer arithmetic, so a seed yields the same sequence on every platform
/// and runtime (native, browser WebAssembly). Not thread-safe; not for cryptography.
/// </remarks>
public sealed class XorShiftRandom
{
    private ulong _state;

    /// <summary>Creates a generator from a seed.</summary>
    public XorShiftRandom(ulong seed) => Reseed(seed);

    /// <summary>Restarts the sequence from a seed.</summary>
    public void Reseed(ulong seed)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        _state = z == 0 ? 0x9E3779B97F4A7C15UL : z;
    }

    /// <summary>The next 32 random bits.</summary>
    public uint NextUInt32()
    {
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return (uint)((_state * 0x2545F4914F6CDD1DUL) >> 32);
    }

    /// <summary>A float uniform in [0, 1) with 24 random bits.</summary>
    public float NextSingle() => (NextUInt32() >> 8) / 16777216.0f;
}
