using DesLoc.Transport.Protocol;

namespace DesLoc.Transport.Tests.Membership;

/// <summary>Quorum requests as replicas send them: at a sync point, or joining with the checkpoints they hold.</summary>
internal static class QuorumRequests
{
    public static QuorumRequest At(int rank, long step, int phase = 2) => new() { Rank = rank, Step = step, Phase = phase };

    public static QuorumRequest Joining(int rank, params long[] checkpoints)
    {
        var request = new QuorumRequest { Rank = rank, Joining = true };
        request.CheckpointSteps.AddRange(checkpoints);
        return request;
    }
}
