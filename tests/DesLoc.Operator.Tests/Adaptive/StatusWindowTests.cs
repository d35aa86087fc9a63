using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using DesLoc.Transport.Protocol;

namespace DesLoc.Operator.Tests.Adaptive;

/// <summary>The comm fraction the controller sees: over two rounds of the most frequent sync, not one poll.</summary>
public sealed class StatusWindowTests
{
    /// <summary>Rank 0 at <paramref name="step"/> of a run where each step computes 0.1 s and every 8th step syncs for 0.4 s.</summary>
    private static StatusReply At(long step, int period = 8)
    {
        var reply = new StatusReply { Step = step, ComputeSeconds = step * 0.1, SyncSeconds = step / period * 0.4 };
        reply.SyncPeriods.Add("params", period);
        return reply;
    }

    [Fact]
    public void PollsBetweenRounds_SeeTheMeanFraction_NotZeroOrASpike()
    {
        var window = new StatusWindow();
        var fractions = new List<double>();
        for (long step = 0; step <= 64; step += 2)   // a poll every 2 steps, a round every 8
        {
            fractions.Add(window.Next(At(step)).CommFraction);
        }

        double mean = 0.4 / ((8 * 0.1) + 0.4);   // one round per 8 steps: 1/3
        Assert.All(fractions.Skip(5), f => Assert.InRange(f, mean * 0.6, mean * 1.6));
    }

    [Fact]
    public void AfterTheLinkSlows_TheFractionRisesWithinAboutOnePeriod()
    {
        var window = new StatusWindow();
        for (long step = 0; step <= 64; step += 2)
        {
            window.Next(At(step));
        }

        TrainerReport report = null!;
        for (long step = 66; step <= 80; step += 2)   // from step 64 on, each round takes 4 s instead of 0.4 s
        {
            var reply = At(step);
            reply.SyncSeconds = (64 / 8 * 0.4) + ((step / 8) - 8) * 4.0;
            report = window.Next(reply);
        }

        Assert.True(report.CommFraction > 0.7, $"comm fraction {report.CommFraction}");
    }

    [Fact]
    public void ARestartedRankZero_StartsTheWindowAgain()
    {
        var window = new StatusWindow();
        window.Next(At(40));
        window.Next(At(48));

        TrainerReport report = window.Next(At(16));   // counters went backwards: a new rank 0

        Assert.Equal(16, report.Step);
        Assert.InRange(report.CommFraction, 0.0, 1.0);
        Assert.Equal(0.8 / (0.8 + 1.6), report.CommFraction, 6);
    }
}
