namespace DesLoc.Transport.Membership;

/// <summary>
/// The rings a worker takes part in (DESIGN.md §6), each with its own connections: its shard's ring between replicas,
/// the gather of shards inside its replica, and the fast tier. A ring's quorum id is the coordinator's id with the
/// channel in its two top bits (the coordinator leaves them clear), so the rings of one quorum never share a
/// connection or a mailbox, and dropping an abandoned quorum's connections leaves the other rings' alone.
/// </summary>
public enum RingChannel
{
    Shard = 0,
    Gather = 1,
    Fast = 2,
}

public static class RingChannels
{
    private const int Shift = 62;

    public static ulong Id(ulong quorumId, RingChannel channel) => (quorumId & ((1UL << Shift) - 1)) | ((ulong)channel << Shift);

    public static bool SameChannel(ulong first, ulong second) => first >> Shift == second >> Shift;
}
