using DesLoc.Transport.Protocol;

namespace DesLoc.Transport.Membership;

/// <summary>
/// What a quorum decides, as a pure function of who arrived: the members in ring order, the sync point they are
/// at (the newest any live member reached), the donor everyone behind heals from, and, when every arrival is a
/// joiner (all replicas restarted), the newest checkpoint step they all hold; with none in common, each resumes from
/// its own newest (<see cref="EachOwnNewest"/>: replicas stopped one step apart, or one lost its disk), and whoever
/// is behind at the next sync point heals from whoever is ahead; with no checkpoint anywhere, all start fresh (-1).
/// </summary>
public sealed record QuorumPlan(IReadOnlyList<int> Members, long Step, int Phase, int Donor, long ResumeCheckpoint)
{
    /// <summary>No checkpoint step is held by every joiner: each loads its own newest, if it has one.</summary>
    public const long EachOwnNewest = -2;

    public static QuorumPlan Decide(IReadOnlyList<QuorumRequest> arrivals)
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
            return new QuorumPlan(members, -1, 0, -1, newestCommon >= 0 ? newestCommon : anyCheckpoint ? EachOwnNewest : -1);
        }

        QuorumRequest newest = live.MaxBy(a => (a.Step, a.Phase))!;
        int donor = live.Where(a => a.Step == newest.Step && a.Phase == newest.Phase).Min(a => a.Rank);
        return new QuorumPlan(members, newest.Step, newest.Phase, donor, -1);
    }

    /// <summary>The rank <paramref name="arrival"/> must copy its state from, or -1 to keep its own.</summary>
    public int HealFromFor(QuorumRequest arrival) =>
        Donor >= 0 && (arrival.Joining || arrival.Step != Step || arrival.Phase != Phase) ? Donor : -1;
}
