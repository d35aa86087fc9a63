using DesLoc.Transport.Protocol;

namespace DesLoc.Transport.Grpc;

/// <summary>What the trainer exposes to its peers and the operator through <see cref="ReplicaService"/>.</summary>
public interface IReplicaEndpoint
{
    int Rank { get; }

    long Step { get; }

    /// <summary>The serialized state this replica held when it arrived at its current sync point; waits until one is published.</summary>
    Task<byte[]> SnapshotAsync(CancellationToken cancellationToken);

    StatusReply Status();

    SetSyncPeriodsReply SetSyncPeriods(SetSyncPeriodsRequest request);
}
