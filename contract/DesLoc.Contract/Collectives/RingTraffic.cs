namespace DesLoc.Contract.Collectives;

/// <summary>
/// Bytes one rank sends under the bandwidth-optimal ring algorithms. The buffer is cut into WorldSize chunks
/// (the first <c>n mod W</c> one element longer); reduce-scatter then all-gather each take W-1 steps in which
/// rank r sends one chunk. Shared by the in-process collective (which has no wire) and the DDP-equivalent
/// accounting, so both count exactly what a ring sends.
/// </summary>
public static class RingTraffic
{
    /// <summary>Size in elements of chunk <paramref name="chunk"/> when <paramref name="elements"/> are cut into <paramref name="world"/> chunks.</summary>
    public static long ChunkLength(long elements, int world, int chunk)
    {
        long quotient = elements / world;
        return quotient + (chunk < elements % world ? 1 : 0);
    }

    /// <summary>Index of the first element of chunk <paramref name="chunk"/>.</summary>
    public static long ChunkStart(long elements, int world, int chunk) =>
        chunk * (elements / world) + Math.Min(chunk, elements % world);

    /// <summary>Bytes rank <paramref name="rank"/> sends in a ring all-reduce of <paramref name="elements"/> values.</summary>
    public static long AllReduceBytes(long elements, int elementSize, int world, int rank) =>
        AllReduceBytes(elements, values => values * elementSize, world, rank);

    /// <summary>
    /// Bytes rank <paramref name="rank"/> sends in a ring all-reduce of <paramref name="elements"/> values when one
    /// message of n values takes <paramref name="messageBytes"/>(n) bytes (block formats carry a scale per block of each message).
    /// </summary>
    public static long AllReduceBytes(long elements, Func<long, long> messageBytes, int world, int rank)
    {
        ValidateGroup(world, rank);
        long sent = 0;
        for (int step = 0; step < world - 1; step++)
        {
            int reduceScatterChunk = Mod(rank - step, world);
            int allGatherChunk = Mod(rank + 1 - step, world);
            sent += messageBytes(ChunkLength(elements, world, reduceScatterChunk)) + messageBytes(ChunkLength(elements, world, allGatherChunk));
        }

        return sent;
    }

    /// <summary>
    /// Bytes rank <paramref name="rank"/> sends in a ring all-gather: it forwards every payload but its
    /// successor's, i.e. the W-1 payloads of ranks r, r-1, ..., r-W+2.
    /// </summary>
    public static long AllGatherBytes(IReadOnlyList<long> payloadBytes, int rank)
    {
        int world = payloadBytes.Count;
        ValidateGroup(world, rank);
        long sent = 0;
        for (int step = 0; step < world - 1; step++)
        {
            sent += payloadBytes[Mod(rank - step, world)];
        }

        return sent;
    }

    /// <summary>Bytes rank <paramref name="rank"/> sends in a pipelined ring broadcast: every rank but the root's predecessor forwards the buffer once.</summary>
    public static long BroadcastBytes(long bytes, int world, int root, int rank)
    {
        ValidateGroup(world, rank);
        return world == 1 || rank == Mod(root - 1, world) ? 0 : bytes;
    }

    private static int Mod(int value, int modulus) => ((value % modulus) + modulus) % modulus;

    private static void ValidateGroup(int world, int rank)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(world, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, world);
    }
}
