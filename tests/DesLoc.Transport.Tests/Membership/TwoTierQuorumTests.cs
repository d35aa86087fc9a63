using DesLoc.Contract.Wire;
using DesLoc.Transport.Membership;
using DesLoc.Transport.Protocol;
using static DesLoc.Transport.Tests.Membership.QuorumRequests;

namespace DesLoc.Transport.Tests.Membership;

/// <summary>Quorums over replicas of several workers (DESIGN.md §6): whole replicas only, donors near the joiner.</summary>
public sealed class TwoTierQuorumTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private static readonly JobTopology s_twoByTwo = new(2, 2);

    [Fact]
    public void HealFrom_AReplacedWorker_TakesItsLiveSibling_AWholeReplicaTakesItsShardsWorkerElsewhere()
    {
        // Replica 0 (ranks 0, 1) live at step 40; replica 1: rank 2 live at step 40, rank 3 replaced.
        QuorumPlan sibling = QuorumPlan.Decide([At(0, 40), At(1, 40), At(2, 40), Joining(3)], s_twoByTwo);
        Assert.Equal([-1, -1, -1, 2], new[] { At(0, 40), At(1, 40), At(2, 40), Joining(3) }.Select(sibling.HealFromFor));

        // Both workers of replica 1 replaced: worker w heals from worker w of replica 0.
        QuorumPlan whole = QuorumPlan.Decide([At(0, 40), At(1, 40), Joining(2), Joining(3)], s_twoByTwo);
        Assert.Equal([-1, -1, 0, 1], new[] { At(0, 40), At(1, 40), Joining(2), Joining(3) }.Select(whole.HealFromFor));

        // A sibling that is behind is no donor: the newest point is replica 0's.
        QuorumPlan behind = QuorumPlan.Decide([At(0, 40), At(1, 40), At(2, 30), Joining(3)], s_twoByTwo);
        Assert.Equal(0, behind.HealFromFor(At(2, 30)));
        Assert.Equal(1, behind.HealFromFor(Joining(3)));
    }

    [Fact]
    public async Task Arrive_AReplicaMissingAWorker_IsLeftOut_ItsOtherWorkerWaitsForTheReplacement()
    {
        // Rank 3 is dead (pings fail): replica 1 is incomplete.
        using var coordinator = new QuorumCoordinator(s_twoByTwo, 1, (rank, _) => Task.FromResult(rank != 3), TimeProvider.System, new CoordinatorOptions
        {
            JoinTimeout = TimeSpan.FromSeconds(1),
            ArrivalTimeout = TimeSpan.FromSeconds(30),
            ProbeInterval = TimeSpan.FromMilliseconds(20),
        });

        Task<QuorumReply>[] first = [.. new[] { 0, 1, 2 }.Select(r => coordinator.ArriveAsync(Joining(r), default))];
        QuorumReply[] formed = await Task.WhenAll(first[0], first[1]).WaitAsync(s_timeout);

        Assert.All(formed, reply => Assert.Equal([0, 1], reply.Members));
        Assert.False(first[2].IsCompleted);   // rank 2 is not in a quorum without its sibling

        Task<QuorumReply> replacement = coordinator.ArriveAsync(Joining(3), default);
        Task<QuorumReply>[] next = [coordinator.ArriveAsync(At(0, 10), default), coordinator.ArriveAsync(At(1, 10), default)];
        QuorumReply[] all = await Task.WhenAll([first[2], replacement, .. next]).WaitAsync(s_timeout);

        Assert.All(all, reply => Assert.Equal([0, 1, 2, 3], reply.Members));
        Assert.Single(all.Select(r => r.QuorumId).Distinct());
    }

    [Fact]
    public async Task Arrive_AWorkerAtAStepStartAndItsReplacement_RegroupAlone_WithoutWaitingForTheOtherReplica()
    {
        // Replica 0 (ranks 0, 1) is training and will not arrive; rank 3 died mid-step and rank 2 waits at step 41's start.
        using var coordinator = new QuorumCoordinator(s_twoByTwo, 1, (_, _) => Task.FromResult(true), TimeProvider.System, new CoordinatorOptions
        {
            ArrivalTimeout = TimeSpan.FromSeconds(30),
            ProbeInterval = TimeSpan.FromMilliseconds(20),
        });
        QuorumRequest waiting = At(2, 41, phase: QuorumCoordinator.StepStart);

        Task<QuorumReply> sibling = coordinator.ArriveAsync(waiting, default);
        await Task.Delay(100);
        Assert.False(sibling.IsCompleted);   // alone, its replica is not whole
        QuorumReply[] replies = await Task.WhenAll(sibling, coordinator.ArriveAsync(Joining(3), default)).WaitAsync(s_timeout);

        Assert.All(replies, reply => Assert.Equal([2, 3], reply.Members));
        Assert.Equal((41L, QuorumCoordinator.StepStart), (replies[0].Step, replies[0].Phase));
        Assert.Equal([-1, 2], replies.Select(r => r.HealFrom));   // the replacement copies its sibling
    }

    [Fact]
    public void RingChannels_OfOneQuorum_AreDistinct_AndKeepTheirChannel()
    {
        ulong quorum = 5UL << 32;
        ulong[] ids = [.. Enum.GetValues<RingChannel>().Select(c => RingChannels.Id(quorum, c))];

        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.True(RingChannels.SameChannel(RingChannels.Id(quorum, RingChannel.Fast), RingChannels.Id(quorum + 1, RingChannel.Fast)));
        Assert.False(RingChannels.SameChannel(RingChannels.Id(quorum, RingChannel.Fast), RingChannels.Id(quorum, RingChannel.Gather)));
        Assert.Equal(quorum, RingChannels.Id(quorum, RingChannel.Shard));   // one worker per replica: ids as before
    }
}
