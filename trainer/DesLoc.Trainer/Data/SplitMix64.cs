using DesLoc.Sync.Math;

namespace DesLoc.Trainer.Data;

/// <summary>A small, fast, seedable generator for sampling one sequence; seeded from <see cref="CounterRandom"/>.</summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public static SplitMix64 For(ulong seed, ulong stream, ulong counter) => new(CounterRandom.Hash(seed, stream, counter));

    public ulong Next()
    {
        ulong state = _state;
        _state += 0x9E3779B97F4A7C15UL;
        return CounterRandom.Mix(state);   // Mix adds the increment itself
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, bound).</summary>
    public long NextLong(long bound) => (long)(NextDouble() * bound);
}
