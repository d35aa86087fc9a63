namespace DesLoc.Transport.Membership;

/// <summary>The replicas taking part in a round, in ring order (ascending global rank), and the quorum's id.</summary>
public sealed record QuorumView(ulong Id, IReadOnlyList<int> Members)
{
    public int PositionOf(int rank)
    {
        for (int i = 0; i < Members.Count; i++)
        {
            if (Members[i] == rank)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Rank {rank} is not a member of quorum {Id} ({string.Join(",", Members)}).");
    }
}
