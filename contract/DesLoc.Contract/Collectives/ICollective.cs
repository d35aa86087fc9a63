namespace DesLoc.Contract.Collectives;

/// <summary>
/// The collective operations one replica takes part in. Every replica of the group must call the same
/// operations in the same order with buffers of the same length; a call completes when every member has made it.
/// Each call returns the bytes this replica put on the wire for it, so byte accounting reflects what was sent.
/// </summary>
public interface ICollective
{
    /// <summary>This replica's rank, 0..WorldSize-1.</summary>
    int Rank { get; }

    /// <summary>Number of replicas in the group.</summary>
    int WorldSize { get; }

    /// <summary>Replaces <paramref name="buffer"/> on every replica with the element-wise mean over the group.</summary>
    ValueTask<long> AllReduceMeanAsync(Memory<float> buffer, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces <paramref name="buffer"/> on every replica with the mean over the group of a pseudo-gradient whose
    /// senders feed back what the wire loses, so it may travel coarser than state (int8 under <c>sync.compression: int8</c>).
    /// Every rounding this replica makes on the way (its contribution, the partial sums it forwards, the mean of the
    /// chunk it owns) is added to <paramref name="residual"/> in the buffer's units: the group's mean is then exactly
    /// the mean of (buffer − residual change), up to float32 arithmetic, so adding the residual to the next buffer loses nothing.
    /// </summary>
    ValueTask<long> AllReduceMeanFedBackAsync(Memory<float> buffer, Memory<float> residual, CancellationToken cancellationToken);

    /// <summary>Gives every replica every replica's payload, indexed by rank (payloads may differ in length).</summary>
    ValueTask<GatherResult> AllGatherAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);

    /// <summary>Copies <paramref name="root"/>'s buffer into <paramref name="buffer"/> on every replica.</summary>
    ValueTask<long> BroadcastAsync(Memory<float> buffer, int root, CancellationToken cancellationToken);
}

/// <summary>Every replica's payload by rank, and the bytes this replica sent to gather them.</summary>
public sealed record GatherResult(IReadOnlyList<ReadOnlyMemory<byte>> Payloads, long BytesSent);

/// <summary>
/// The collective between replicas as one worker of a replica of several sees it (DESIGN.md §6): <see cref="ICollective.Rank"/>
/// and <see cref="ICollective.WorldSize"/> count replicas, each operation moves this worker's shard between replicas
/// and then gathers the shards inside the replica. The bytes each operation returns are the inter-site ones; what it
/// sent inside the replica accumulates in <see cref="IntraBytesSent"/>.
/// </summary>
public interface IShardedCollective : ICollective
{
    int WorkersPerReplica { get; }

    /// <summary>Bytes this worker has sent inside its replica, over all operations so far.</summary>
    long IntraBytesSent { get; }
}
