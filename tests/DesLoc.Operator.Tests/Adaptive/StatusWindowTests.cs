using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using DesLoc.Transport.Protocol;

namespace DesLoc.Operator.Tests.Adaptive;

public sealed class StatusWindowTests
{
    private static StatusReply Reply(long step, double sync, double compute)
    {
        var reply = new StatusReply { Step = step, SyncSeconds = sync, ComputeSeconds = compute, Loss = 2.0, DdpEquivalentBytes = 1000 };
        reply.BytesSent.Add("params", 40);
        reply.BytesSent.Add("m1", 20);
        reply.SyncPeriods.Add("params", 8);
        return reply;
    }

    [Fact]
    public void Fraction_IsOverTheWindowSinceItsStart_NotSinceTheJobStarted()
    {
        var window = new StatusWindow();
        window.Observe(Reply(100, sync: 10, compute: 90));             // 10% since the start
        TrainerReport report = window.Observe(Reply(116, sync: 18, compute: 92)); // the link slowed: 8 s of 10 in the window

        Assert.Equal(0.8, report.CommFraction, 6);
        Assert.Equal(16, window.Steps(Reply(116, 18, 92)));
        Assert.Equal((60L, 1000L), (report.BytesSent, report.DdpEquivalentBytes));
    }

    [Fact]
    public void Restart_StartsANewWindow_AndRestartAtWaitsForTheSwitchStep()
    {
        var window = new StatusWindow();
        window.Observe(Reply(100, 10, 90));
        window.Restart(Reply(120, 20, 100));
        Assert.Equal(0.5, window.Observe(Reply(130, 22, 102)).CommFraction, 6);

        window.RestartAt(140);
        Assert.Equal(20, window.Steps(Reply(140, 30, 110)));             // still measured from step 120 before the switch
        window.Observe(Reply(140, 30, 110));                             // passes the switch step: the window restarts here
        Assert.Equal(0.25, window.Observe(Reply(150, 31, 113)).CommFraction, 6);
    }

    [Fact]
    public void RestartedRankZero_CountsFromZeroAgain_AndTheWindowFollows()
    {
        var window = new StatusWindow();
        window.Observe(Reply(500, 50, 450));
        TrainerReport fresh = window.Observe(Reply(10, 1, 9));           // counters went backwards: a new process
        Assert.Equal(0.1, fresh.CommFraction, 6);                        // an empty window reports the fraction since it started
        Assert.Equal(0.5, window.Observe(Reply(20, 3, 11)).CommFraction, 6);
    }

    [Fact]
    public void HeldOutLoss_IsCarriedWithItsStep()
    {
        StatusReply reply = Reply(100, 10, 90);
        reply.EvalLoss = 1.75;
        reply.EvalStep = 80;

        TrainerReport report = new StatusWindow().Observe(reply);

        Assert.Equal((1.75, 80L), (report.EvalLoss, report.EvalStep));
        Assert.Equal(0L, new StatusWindow().Observe(Reply(100, 10, 90)).EvalStep);
    }
}
