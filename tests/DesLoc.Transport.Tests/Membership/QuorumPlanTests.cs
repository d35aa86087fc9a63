using DesLoc.Transport.Membership;
using DesLoc.Transport.Protocol;
using static DesLoc.Transport.Tests.Membership.QuorumRequests;

namespace DesLoc.Transport.Tests.Membership;

public sealed class QuorumPlanTests
{
    [Fact]
    public void Decide_MembersAreInRingOrder_TheNewestSyncPointWins_TheLowestRankThereDonates()
    {
        QuorumRequest[] arrivals = [At(3, 40), At(1, 40, phase: 1), At(2, 40), At(0, 30), Joining(4)];

        QuorumPlan plan = QuorumPlan.Decide(arrivals);

        Assert.Equal([0, 1, 2, 3, 4], plan.Members);
        Assert.Equal((40L, 2), (plan.Step, plan.Phase));
        Assert.Equal(2, plan.Donor);
        Assert.Equal(-1, plan.ResumeCheckpoint);
        Assert.Equal([2, 2, -1, -1, 2], arrivals.OrderBy(a => a.Rank).Select(plan.HealFromFor));
    }

    [Theory]
    [InlineData(new long[] { 20, 40, 60 }, new long[] { 40, 60 }, 60)]
    [InlineData(new long[] { 20, 40 }, new long[] { 60 }, QuorumPlan.EachOwnNewest)]
    [InlineData(new long[0], new long[] { 60 }, QuorumPlan.EachOwnNewest)]
    [InlineData(new long[0], new long[0], -1)]
    public void Decide_OnlyJoiners_ResumeFromTheNewestCommonCheckpoint_ElseEachFromItsOwn(long[] first, long[] second, long expected)
    {
        QuorumPlan plan = QuorumPlan.Decide([Joining(1, second), Joining(0, first)]);

        Assert.Equal(expected, plan.ResumeCheckpoint);
        Assert.Equal(-1, plan.Donor);
        Assert.Equal(-1, plan.HealFromFor(Joining(0, first)));
    }
}
