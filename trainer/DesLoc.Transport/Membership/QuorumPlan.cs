using DesLoc.Contract.Wire;
using DesLoc.Transport.Protocol;

namespace DesLoc.Transport.Membership;

/// <summary>
/// What a quorum decides, as a pure function of who arrived: the members in ring order, the sync point they are
/// at (the newest any live member reached), the donor everyone behind heals from, and, when every arrival is a
/// joiner (all replicas restarted), the newest checkpoint step they all hold; with none in common, each resumes from
/// its own newest (<see cref="EachOwnNewest"/>: replicas stopped one step apart, or one lost its disk), and whoever
/// is behind at the next sync point heals from whoever is ahead; with no checkpoint anywhere, all start fresh (-1).
/// Members are workers (global ranks); with several workers per replica, a worker heals from a worker of its own
/// replica when one is at the newest point (over the fast tier), else from the same worker index of the lowest replica
/// that is (the donor holds the same state as every worker of its replica).
/// </summary>
public sealed record QuorumPlan(IReadOnlyList<int> Members, long Step, int Phase, int Donor, long ResumeCheckpoint)
{
    /// <summary>The workers at the newest point, any of which can be a donor.</summary>
    public IReadOnlyList<int> Donors { get; init; } = Donor >= 0 ? [Donor] : [];

    /// <summary>The job's shape, for choosing a donor near the joiner.</summary>
    public JobTopology Topology { get; init; } = new(int.MaxValue, 1);

    /// <summary>No checkpoint step is held by every joiner: each loads its own newest, if it has one.</summary>
    public const long EachOwnNewest = -2;

    public static QuorumPlan Decide(IReadOnlyList<QuorumRequest> arrivals) => Decide(arrivals, new JobTopology(int.MaxValue, 1));

    public static QuorumPlan Decide(IReadOnlyList<QuorumRequest> arrivals, JobTopology topology)
    {
        QuorumRequest[] ordered = [.. arrivals.OrderBy(a => a.Rank)];
        int[] members = [.. ordered.Select(a => a.Rank)];
        QuorumRequest[] live = [.. ordered.Where(a => !a.Joining)];
        if (live.Length == 0)
        {
            IEnumerable<long> common = ordered[0].CheckpointSteps;
            foreach (QuorumRequest arrival in ordered.Skip(1))
            {
                common = common.Intersect(arrival.CheckpointSteps);
            }

            long newestCommon = common.DefaultIfEmpty(-1).Max();
            bool anyCheckpoint = ordered.Any(a => a.CheckpointSteps.Count > 0);
            return new QuorumPlan(members, -1, 0, -1, newestCommon >= 0 ? newestCommon : anyCheckpoint ? EachOwnNewest : -1) { Topology = topology };
        }

        QuorumRequest newest = live.MaxBy(a => (a.Step, a.Phase))!;
        int[] donors = [.. live.Where(a => a.Step == newest.Step && a.Phase == newest.Phase).Select(a => a.Rank)];
        return new QuorumPlan(members, newest.Step, newest.Phase, donors[0], -1) { Donors = donors, Topology = topology };
    }

    /// <summary>The rank <paramref name="arrival"/> must copy its state from, or -1 to keep its own.</summary>
    public int HealFromFor(QuorumRequest arrival)
    {
        if (Donor < 0 || !(arrival.Joining || arrival.Step != Step || arrival.Phase != Phase))
        {
            return -1;
        }

        int replica = Topology.ReplicaOf(arrival.Rank);
        int worker = Topology.WorkerOf(arrival.Rank);
        int[] siblings = [.. Donors.Where(d => Topology.ReplicaOf(d) == replica)];
        int[] sameShard = [.. Donors.Where(d => Topology.WorkerOf(d) == worker)];
        return siblings.Length > 0 ? siblings[0] : sameShard.Length > 0 ? sameShard[0] : Donor;
    }
}
