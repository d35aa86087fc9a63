using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Tests.Reconciliation;

namespace DesLoc.Operator.Tests.Adaptive;

/// <summary>
/// The adaptive decision is part of the reconciler's plan: judged on rank 0's windowed measurement, once per interval,
/// only on a window of at least two rounds, never while a change is pending, and never for a job that is not running.
/// </summary>
public sealed class AdaptiveDecisionInPlanTests
{
    private static readonly Dictionary<string, int> s_periods = new() { ["params"] = 16, ["m1"] = 48, ["m2"] = 96 };

    private static LowCommJob Job(bool enabled = true, string policy = AdaptiveSyncSpec.Theory) => Jobs.New(edit: s => s with
    {
        Sync = new SyncSpec { Adaptive = new AdaptiveSyncSpec { Enabled = enabled, Policy = policy, TargetCommFraction = 0.1, IntervalSeconds = 30 } },
    });

    private static TrainerReport Report(double commFraction, long windowSteps, PeriodChange? sent = null) =>
        new(200, 2.0, 1000, 100000, 1e6, commFraction, s_periods, sent, windowSteps);

    [Fact]
    public void SlowLink_OverAFullWindow_Uniform_LengthensEveryPeriodAlike()
    {
        LowCommJob job = Job(policy: AdaptiveSyncSpec.Uniform);
        ReconcilePlan plan = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0, Report(commFraction: 0.4, windowSteps: 32));

        PeriodChange change = plan.Adaptive?.Change ?? throw new Xunit.Sdk.XunitException("no change");
        Assert.Equal(new Dictionary<string, int> { ["params"] = 32, ["m1"] = 96, ["m2"] = 192 }, change.Periods);
        Assert.Equal(Jobs.T0, plan.Status.Sync!.LastDecisionTime);
    }

    [Fact]
    public void SlowLink_OverAFullWindow_Theory_StretchesTheMomentsToMaxPeriod_BeforeKx()
    {
        LowCommJob job = Job();
        ReconcilePlan plan = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0, Report(commFraction: 0.4, windowSteps: 32));

        // Halving 1/16 + 1/48 + 1/96 takes kv and ku to the top (4096 rounded down to a multiple of kx) and kx from 16 to 21.
        PeriodChange change = plan.Adaptive?.Change ?? throw new Xunit.Sdk.XunitException("no change");
        Assert.Equal(new Dictionary<string, int> { ["params"] = 21, ["m1"] = 4095, ["m2"] = 4095 }, change.Periods);
    }

    [Fact]
    public void InsideTheBand_IsStillAJudgement_ThatChangesNothing_AndStartsANewWindow()
    {
        LowCommJob job = Job();
        ReconcilePlan plan = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0, Report(commFraction: 0.1, windowSteps: 32));

        Assert.NotNull(plan.Adaptive);
        Assert.Null(plan.Adaptive.Change);
        Assert.Equal(Jobs.T0, plan.Status.Sync!.LastDecisionTime);
    }

    [Theory]
    [InlineData(false, 32, 3600, "disabled")]
    [InlineData(true, 31, 3600, "a window shorter than two rounds of params (16)")]
    [InlineData(true, 32, 29, "within the interval (30 s) of the last judgement")]
    public void NoJudgement(bool enabled, long windowSteps, double secondsSinceLastJudgement, string why)
    {
        LowCommJob job = Job(enabled);
        job.Status = new LowCommJobStatus { Phase = JobPhase.Running, Sync = new SyncStatus { LastDecisionTime = Jobs.T0.AddSeconds(-secondsSinceLastJudgement) } };

        ReconcilePlan plan = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0, Report(commFraction: 0.4, windowSteps));

        Assert.True(plan.Adaptive is null, why);
    }

    [Fact]
    public void PendingOrUnrecordedChange_BlocksANewOne()
    {
        LowCommJob job = Job();
        var sent = new PeriodChange { Periods = new Dictionary<string, int> { ["params"] = 32, ["m1"] = 96, ["m2"] = 192 }, SwitchStep = 264 };

        ReconcilePlan carried = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0, Report(0.4, 32, sent));
        ReconcilePlan pending = Jobs.Reconcile(job.With(carried), Jobs.Running(job), Jobs.T0.AddMinutes(5), Report(0.4, 32));

        Assert.Null(carried.Adaptive);
        Assert.Equal(sent, carried.Status.Sync!.Pending);
        Assert.Null(pending.Adaptive);
    }

    [Fact]
    public void SuspendedJob_IsNotJudged()
    {
        LowCommJob job = Job();
        job = new LowCommJob { Metadata = job.Metadata, Spec = job.Spec with { Suspend = true } };

        ReconcilePlan plan = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0, Report(0.4, 32));

        Assert.Null(plan.Adaptive);
    }
}
