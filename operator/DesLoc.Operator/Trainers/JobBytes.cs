using DesLoc.Contract.Wire;
using DesLoc.Transport.Protocol;

namespace DesLoc.Operator.Trainers;

/// <summary>
/// A job's bytes from its workers' latest answers (DESIGN.md §6): each worker's <c>bytes_sent</c> is its share of
/// the inter-site tier and its <c>intra_bytes_sent</c> what it sent inside its replica, so both are summed over
/// workers; <c>ddp_equivalent_bytes</c> is its replica's (the same on each of the replica's workers), so it is
/// counted once per replica.
/// </summary>
internal static class JobBytes
{
    /// <param name="topology">The job's replicas and workers, to find each answer's replica.</param>
    /// <param name="replies">The latest answer of each worker that answered, by global rank.</param>
    public static (long Inter, long Intra, long DdpEquivalent) Sum(JobTopology topology, IReadOnlyDictionary<int, StatusReply> replies)
    {
        long inter = 0;
        long intra = 0;
        var ddp = new Dictionary<int, long>();
        foreach ((int rank, StatusReply reply) in replies)
        {
            inter += reply.BytesSent.Values.Sum();
            intra += reply.IntraBytesSent.Values.Sum();
            int replica = topology.ReplicaOf(rank);
            // Equal on a replica's workers; a worker that restarted counts from zero again, so the largest is the replica's.
            ddp[replica] = Math.Max(ddp.GetValueOrDefault(replica), reply.DdpEquivalentBytes);
        }

        return (inter, intra, ddp.Values.Sum());
    }
}
