using System.Buffers.Binary;
using System.Runtime.InteropServices;
using DesLoc.Contract.Collectives;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// The slow tier, sharded (DESIGN.md §6): worker w of a replica exchanges shard w of every buffer with worker w of
/// the other replicas (<paramref name="shardGroup"/>), then the replica's workers gather their shards over the fast
/// tier (<paramref name="replicaGroup"/>). Since the workers of a replica hold
/// identical state, every worker ends with what one unsharded exchange would have given; each replica still sends
/// one model's worth across sites, over W links. Shards are <see cref="RingTraffic"/>'s chunks of W.
/// </summary>
/// <param name="replica">This worker's replica: the rank the algorithms see (PALSGD's coin is per replica).</param>
/// <param name="worker">This worker's index in its replica: the shard it carries, and its place in <paramref name="replicaGroup"/>'s gathers.</param>
/// <param name="shardGroup">Worker w of every replica: the inter-site ring of shard w.</param>
/// <param name="replicaGroup">The workers of this replica: the fast tier.</param>
/// <param name="shardRankOf">The rank, in <paramref name="shardGroup"/>'s numbering, of a replica's worker of this shard.</param>
public sealed class ShardedCollective(int replica, int worker, ICollective shardGroup, ICollective replicaGroup, Func<int, int> shardRankOf) : IShardedCollective
{
    private long _intraBytes;

    public int Rank => replica;

    public int WorldSize => shardGroup.WorldSize;

    public int WorkersPerReplica => replicaGroup.WorldSize;

    public long IntraBytesSent => Interlocked.Read(ref _intraBytes);

    public async ValueTask<long> AllReduceMeanAsync(Memory<float> buffer, CancellationToken cancellationToken)
    {
        long inter = await shardGroup.AllReduceMeanAsync(Shard(buffer, worker), cancellationToken);
        await GatherShardsAsync(buffer, cancellationToken);
        return inter;
    }

    public async ValueTask<long> AllReduceMeanFedBackAsync(Memory<float> buffer, Memory<float> residual, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(residual.Length, buffer.Length, nameof(residual));
        long inter = await shardGroup.AllReduceMeanFedBackAsync(Shard(buffer, worker), Shard(residual, worker), cancellationToken);
        await GatherShardsAsync(buffer, cancellationToken);
        // Only this worker's shard of the residual changed; gathering the others keeps the replica's workers identical.
        await GatherShardsAsync(residual, cancellationToken);
        return inter;
    }

    public async ValueTask<long> BroadcastAsync(Memory<float> buffer, int root, CancellationToken cancellationToken)
    {
        long inter = await shardGroup.BroadcastAsync(Shard(buffer, worker), shardRankOf(root), cancellationToken);
        await GatherShardsAsync(buffer, cancellationToken);
        return inter;
    }

    /// <summary>
    /// Payloads are opaque, so the shards are byte ranges: worker w gathers byte range w of every replica's payload
    /// between replicas, and the replica's workers then swap their ranges, so every worker reassembles every payload.
    /// </summary>
    public async ValueTask<GatherResult> AllGatherAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        int workers = WorkersPerReplica;
        GatherResult slices = await shardGroup.AllGatherAsync(Shard(payload, worker, workers), cancellationToken);
        GatherResult swapped = await replicaGroup.AllGatherAsync(Pack(slices.Payloads), cancellationToken);
        Interlocked.Add(ref _intraBytes, swapped.BytesSent);

        IReadOnlyList<ReadOnlyMemory<byte>>[] byWorker = [.. swapped.Payloads.Select(Unpack)];
        var payloads = new ReadOnlyMemory<byte>[slices.Payloads.Count];
        for (int r = 0; r < payloads.Length; r++)
        {
            payloads[r] = byWorker.SelectMany(slicesOfWorker => slicesOfWorker[r].ToArray()).ToArray();
        }

        return new GatherResult(payloads, slices.BytesSent);
    }

    private async ValueTask GatherShardsAsync(Memory<float> buffer, CancellationToken cancellationToken)
    {
        Memory<float> mine = Shard(buffer, worker);
        GatherResult shards = await replicaGroup.AllGatherAsync(MemoryMarshal.AsBytes(mine.Span).ToArray(), cancellationToken);
        Interlocked.Add(ref _intraBytes, shards.BytesSent);
        for (int w = 0; w < shards.Payloads.Count; w++)
        {
            Memory<float> target = Shard(buffer, w);
            ReadOnlySpan<float> values = MemoryMarshal.Cast<byte, float>(shards.Payloads[w].Span);
            if (values.Length != target.Length)
            {
                throw new InvalidDataException($"Worker {w} sent a shard of {values.Length} values; shard {w} has {target.Length}.");
            }

            values.CopyTo(target.Span);
        }
    }

    private Memory<float> Shard(Memory<float> buffer, int worker) =>
        buffer.Slice((int)RingTraffic.ChunkStart(buffer.Length, WorkersPerReplica, worker), (int)RingTraffic.ChunkLength(buffer.Length, WorkersPerReplica, worker));

    private static ReadOnlyMemory<byte> Shard(ReadOnlyMemory<byte> payload, int worker, int workers) =>
        payload.Slice((int)RingTraffic.ChunkStart(payload.Length, workers, worker), (int)RingTraffic.ChunkLength(payload.Length, workers, worker));

    /// <summary>Slices by replica, length-prefixed: [count][length]*count[bytes]*count.</summary>
    private static byte[] Pack(IReadOnlyList<ReadOnlyMemory<byte>> slices)
    {
        byte[] packed = new byte[4 + (4 * slices.Count) + slices.Sum(s => s.Length)];
        BinaryPrimitives.WriteInt32LittleEndian(packed, slices.Count);
        int offset = 4 + (4 * slices.Count);
        for (int i = 0; i < slices.Count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(packed.AsSpan(4 + (4 * i)), slices[i].Length);
            slices[i].Span.CopyTo(packed.AsSpan(offset));
            offset += slices[i].Length;
        }

        return packed;
    }

    private static IReadOnlyList<ReadOnlyMemory<byte>> Unpack(ReadOnlyMemory<byte> packed)
    {
        ReadOnlySpan<byte> span = packed.Span;
        int count = BinaryPrimitives.ReadInt32LittleEndian(span);
        var slices = new ReadOnlyMemory<byte>[count];
        int offset = 4 + (4 * count);
        for (int i = 0; i < count; i++)
        {
            int length = BinaryPrimitives.ReadInt32LittleEndian(span[(4 + (4 * i))..]);
            slices[i] = packed.Slice(offset, length);
            offset += length;
        }

        return slices;
    }
}
