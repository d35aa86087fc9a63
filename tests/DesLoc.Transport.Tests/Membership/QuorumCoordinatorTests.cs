using DesLoc.Transport.Membership;
using Microsoft.Extensions.Time.Testing;
using DesLoc.Transport.Protocol;
using static DesLoc.Transport.Tests.Membership.QuorumRequests;

namespace DesLoc.Transport.Tests.Membership;

public sealed class QuorumCoordinatorTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private static readonly CoordinatorOptions s_fast = new()
    {
        JoinTimeout = TimeSpan.FromSeconds(1),
        ArrivalTimeout = TimeSpan.FromSeconds(30),
        ProbeInterval = TimeSpan.FromMilliseconds(20),
    };

    internal static QuorumCoordinator Create(int world, Func<int, bool>? alive = null, int minReplicas = 1) =>
        new(world, minReplicas, (rank, _) => Task.FromResult(alive?.Invoke(rank) ?? true), TimeProvider.System, s_fast);

    [Fact]
    public async Task Arrive_EveryoneAtTheSameSyncPoint_OneQuorumWithEveryoneAndNoHeal()
    {
        using QuorumCoordinator coordinator = Create(3);

        QuorumReply[] replies = await Task.WhenAll(Enumerable.Range(0, 3).Select(r => coordinator.ArriveAsync(At(r, 10), default))).WaitAsync(s_timeout);

        Assert.All(replies, r => Assert.Equal([0, 1, 2], r.Members));
        Assert.Single(replies.Select(r => r.QuorumId).Distinct());
        Assert.All(replies, r => Assert.Equal(-1, r.HealFrom));
    }

    [Fact]
    public async Task FirstQuorum_WaitsForAReplicaThatHasNotStarted_UntilTheJoinTimeout()
    {
        // Fake time: on a loaded machine a real 300 ms pause can outlast the 1 s join timeout.
        var time = new FakeTimeProvider();
        using var coordinator = new QuorumCoordinator(3, 1, (_, _) => Task.FromResult(false), time, s_fast);   // pings fail: nobody has a server yet

        Task<QuorumReply> first = coordinator.ArriveAsync(Joining(0), default);
        Task<DateTimeOffset> formedAt = first.ContinueWith(_ => time.GetUtcNow(), TaskContinuationOptions.ExecuteSynchronously);
        await AdvanceAsync(time, TimeSpan.FromMilliseconds(900));
        Assert.False(first.IsCompleted);
        Task<QuorumReply> second = coordinator.ArriveAsync(Joining(1), default);
        var real = System.Diagnostics.Stopwatch.StartNew();
        while (!first.IsCompleted && real.Elapsed < s_timeout)
        {
            await AdvanceAsync(time, s_fast.ProbeInterval);
        }

        QuorumReply reply = await first.WaitAsync(s_timeout);
        Assert.True(await formedAt - time.Start >= s_fast.JoinTimeout);
        Assert.Equal([0, 1], reply.Members);   // rank 2 never came; dropped only after the join timeout
        Assert.Equal([0, 1], (await second).Members);
    }

    /// <summary>Moves fake time a probe interval at a time, letting the coordinator's loop run after each tick.</summary>
    private static async Task AdvanceAsync(FakeTimeProvider time, TimeSpan by)
    {
        for (TimeSpan moved = TimeSpan.Zero; moved < by; moved += s_fast.ProbeInterval)
        {
            time.Advance(s_fast.ProbeInterval);
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task LaterQuorum_DropsAMemberWhosePingFails()
    {
        bool twoAlive = true;
        using QuorumCoordinator coordinator = Create(3, alive: rank => rank != 2 || twoAlive);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(r => coordinator.ArriveAsync(At(r, 10), default))).WaitAsync(s_timeout);

        twoAlive = false;
        QuorumReply[] replies = await Task.WhenAll(coordinator.ArriveAsync(At(0, 20), default), coordinator.ArriveAsync(At(1, 20), default)).WaitAsync(s_timeout);

        Assert.All(replies, r => Assert.Equal([0, 1], r.Members));
    }

    [Fact]
    public async Task Joiner_IsAdmittedAtTheNextSyncPoint_AndHealsFromTheLowestLiveMember()
    {
        using QuorumCoordinator coordinator = Create(3);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(r => coordinator.ArriveAsync(At(r, 10), default))).WaitAsync(s_timeout);

        Task<QuorumReply> joiner = coordinator.ArriveAsync(Joining(1), default);
        QuorumReply[] members = await Task.WhenAll(coordinator.ArriveAsync(At(0, 20), default), coordinator.ArriveAsync(At(2, 20), default)).WaitAsync(s_timeout);
        QuorumReply joined = await joiner.WaitAsync(s_timeout);

        Assert.Equal(0, joined.HealFrom);
        Assert.Equal(20, joined.Step);
        Assert.All(members, r => Assert.Equal(-1, r.HealFrom));
        Assert.Equal([0, 1, 2], joined.Members);
    }

    [Fact]
    public async Task MemberBehindTheOthers_HealsFromOneAtTheNewestSyncPoint()
    {
        using QuorumCoordinator coordinator = Create(2);

        QuorumReply[] replies = await Task.WhenAll(coordinator.ArriveAsync(At(0, 30), default), coordinator.ArriveAsync(At(1, 40), default)).WaitAsync(s_timeout);

        Assert.Equal(1, replies[0].HealFrom);
        Assert.Equal(-1, replies[1].HealFrom);
        Assert.All(replies, r => Assert.Equal(40, r.Step));
    }

    [Fact]
    public async Task EveryoneJoining_ResumesFromTheNewestCheckpointTheyAllHold()
    {
        using QuorumCoordinator coordinator = Create(3);

        QuorumReply[] replies = await Task.WhenAll(
            coordinator.ArriveAsync(Joining(0, 20, 40, 60), default),
            coordinator.ArriveAsync(Joining(1, 20, 40), default),
            coordinator.ArriveAsync(Joining(2, 40, 60), default)).WaitAsync(s_timeout);

        Assert.All(replies, r => Assert.Equal(40, r.ResumeCheckpoint));
        Assert.All(replies, r => Assert.Equal(-1, r.HealFrom));
    }

    [Fact]
    public async Task Commit_EveryoneOk_Commits_AnyFailure_AbortsForAll()
    {
        using QuorumCoordinator coordinator = Create(2);
        QuorumReply first = (await Task.WhenAll(coordinator.ArriveAsync(At(0, 1), default), coordinator.ArriveAsync(At(1, 1), default)))[0];

        bool[] committed = await Task.WhenAll(coordinator.CommitAsync(first.QuorumId, 0, true, default), coordinator.CommitAsync(first.QuorumId, 1, true, default)).WaitAsync(s_timeout);
        QuorumReply second = (await Task.WhenAll(coordinator.ArriveAsync(At(0, 2), default), coordinator.ArriveAsync(At(1, 2), default)))[0];
        Task<bool> okVote = coordinator.CommitAsync(second.QuorumId, 0, true, default);
        bool failedVote = await coordinator.CommitAsync(second.QuorumId, 1, false, default).WaitAsync(s_timeout);

        Assert.Equal([true, true], committed);
        Assert.False(failedVote);
        Assert.False(await okVote.WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Commit_AMemberDiesBeforeVoting_AbortsTheRound()
    {
        bool oneAlive = true;
        using QuorumCoordinator coordinator = Create(2, alive: rank => rank == 0 || oneAlive);
        QuorumReply quorum = (await Task.WhenAll(coordinator.ArriveAsync(At(0, 1), default), coordinator.ArriveAsync(At(1, 1), default)))[0];

        oneAlive = false;
        bool committed = await coordinator.CommitAsync(quorum.QuorumId, 0, true, default).WaitAsync(s_timeout);

        Assert.False(committed);
    }

    [Fact]
    public async Task Quorum_BelowMinReplicas_Waits()
    {
        // Fake time: the join timeout passes without a real 1.5 s wait, however loaded the machine.
        var time = new FakeTimeProvider();
        using var coordinator = new QuorumCoordinator(3, 2, (_, _) => Task.FromResult(false), time, s_fast);

        Task<QuorumReply> alone = coordinator.ArriveAsync(Joining(0), default);
        await AdvanceAsync(time, s_fast.JoinTimeout * 1.5);   // past the join timeout: ranks 1 and 2 are dropped, but one replica is below the floor

        Assert.True(time.GetUtcNow() - time.Start > s_fast.JoinTimeout);
        Assert.False(alone.IsCompleted);
        QuorumReply reply = await (await Task.WhenAny(alone, coordinator.ArriveAsync(Joining(2), default)));
        Assert.Equal([0, 2], reply.Members);
    }
}

public sealed class QuorumCoordinatorPeriodTests
{
    private static async Task<QuorumReply[]> BothArriveAsync(QuorumCoordinator coordinator, long step) => await Task.WhenAll(
        coordinator.ArriveAsync(new QuorumRequest { Rank = 0, Step = step, Phase = 2 }, default),
        coordinator.ArriveAsync(new QuorumRequest { Rank = 1, Step = step, Phase = 2 }, default));

    private static Task<bool[]> BothVoteAsync(QuorumCoordinator coordinator, ulong quorum, bool ok) => Task.WhenAll(
        coordinator.CommitAsync(quorum, 0, true, default), coordinator.CommitAsync(quorum, 1, ok, default));

    [Fact]
    public async Task ProposePeriods_TravelsUntilAQuorumCarryingItCommits_WithOneSwitchStep()
    {
        using var coordinator = new QuorumCoordinator(2, 1, (_, _) => Task.FromResult(true), TimeProvider.System, new CoordinatorOptions());
        coordinator.ProposePeriods(new Dictionary<string, int> { ["outer"] = 64 }, switchStep: 10);

        QuorumReply[] first = await BothArriveAsync(coordinator, 32);
        await BothVoteAsync(coordinator, first[0].QuorumId, ok: false);   // the round failed: redone, change still pending
        QuorumReply[] retry = await BothArriveAsync(coordinator, 32);
        await BothVoteAsync(coordinator, retry[0].QuorumId, ok: true);
        QuorumReply[] after = await BothArriveAsync(coordinator, 64);

        Assert.All(first.Concat(retry), r => Assert.Equal(64, r.Periods["outer"]));
        Assert.All(first.Concat(retry), r => Assert.Equal(33, r.SwitchStep));   // fixed once: the step after the first carrying sync point
        Assert.All(after, r => Assert.Empty(r.Periods));
    }

    [Fact]
    public async Task QuorumIds_AfterACoordinatorRestart_DoNotRepeat()
    {
        using var first = new QuorumCoordinator(1, 1, (_, _) => Task.FromResult(true), TimeProvider.System, new CoordinatorOptions());
        using var restarted = new QuorumCoordinator(1, 1, (_, _) => Task.FromResult(true), TimeProvider.System, new CoordinatorOptions());

        QuorumReply a = await first.ArriveAsync(new QuorumRequest { Rank = 0, Joining = true }, default);
        QuorumReply b = await restarted.ArriveAsync(new QuorumRequest { Rank = 0, Joining = true }, default);

        Assert.NotEqual(a.QuorumId, b.QuorumId);
    }
}
