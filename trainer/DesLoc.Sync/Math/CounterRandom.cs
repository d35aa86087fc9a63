namespace DesLoc.Sync.Math;

/// <summary>
/// Random numbers as a pure function of (seed, stream, counter) via SplitMix64 finalisers. Nothing to carry
/// across a restart: a healed replica that knows its step draws exactly what it would have drawn.
/// </summary>
public static class CounterRandom
{
    public static ulong Hash(ulong seed, ulong stream, ulong counter)
    {
        ulong x = Mix(seed ^ 0x9E3779B97F4A7C15UL);
        x = Mix(x ^ stream);
        return Mix(x ^ counter);
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public static double Uniform(ulong seed, ulong stream, ulong counter) =>
        (Hash(seed, stream, counter) >> 11) * (1.0 / (1UL << 53));

    /// <summary>One SplitMix64 output: add the golden-ratio increment to <paramref name="z"/>, then finalise.</summary>
    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
