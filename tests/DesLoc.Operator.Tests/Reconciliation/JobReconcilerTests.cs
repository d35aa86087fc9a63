using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Validation;
using DesLoc.Operator.Reconciliation;
using k8s.Models;

namespace DesLoc.Operator.Tests.Reconciliation;

public sealed class JobReconcilerTests
{
    [Fact]
    public void NewJob_CreatesEveryPodAndItsChildren_AndIsPending()
    {
        LowCommJob job = Jobs.New();
        ReconcilePlan plan = JobReconciler.Reconcile(new JobObservation(job, [], false, false, null, Jobs.T0), Jobs.Layout);

        Assert.True(plan.CreateService);
        Assert.True(plan.CreateSecret);
        Assert.True(plan.CreateNetworkPolicy);
        Assert.Equal(["train-0", "train-1", "train-2", "train-3"], plan.CreatePods.Select(p => p.Metadata.Name));
        Assert.Equal(JobPhase.Pending, plan.Status.Phase);
        Assert.Equal(Jobs.T0, plan.Status.StartTime);
        Assert.Equal(1, plan.Status.ObservedGeneration);
    }

    [Fact]
    public void NetworkPolicy_IsPlannedWhileItIsMissing_AndNotForAFinishedJob()
    {
        LowCommJob job = Jobs.New();
        LowCommJob finished = Jobs.New();
        finished.Status = new LowCommJobStatus { Phase = JobPhase.Succeeded };

        Assert.False(JobReconciler.Reconcile(new JobObservation(job, [], true, true, null, Jobs.T0, HasNetworkPolicy: true), Jobs.Layout).CreateNetworkPolicy);
        Assert.True(JobReconciler.Reconcile(new JobObservation(job, Jobs.Running(job), true, true, null, Jobs.T0, HasNetworkPolicy: false), Jobs.Layout).CreateNetworkPolicy);
        Assert.False(JobReconciler.Reconcile(new JobObservation(finished, [], true, true, null, Jobs.T0), Jobs.Layout).CreateNetworkPolicy);
    }

    [Fact]
    public void NetworkPolicy_IsAlignedOnceItExists_AndNotForAFinishedJob()
    {
        LowCommJob job = Jobs.New();
        LowCommJob finished = Jobs.New();
        finished.Status = new LowCommJobStatus { Phase = JobPhase.Succeeded };

        ReconcilePlan existing = JobReconciler.Reconcile(new JobObservation(job, Jobs.Running(job), true, true, null, Jobs.T0, HasNetworkPolicy: true), Jobs.Layout);
        ReconcilePlan missing = JobReconciler.Reconcile(new JobObservation(job, [], true, true, null, Jobs.T0, HasNetworkPolicy: false), Jobs.Layout);
        ReconcilePlan done = JobReconciler.Reconcile(new JobObservation(finished, [], true, true, null, Jobs.T0, HasNetworkPolicy: true), Jobs.Layout);

        Assert.Equal((false, true), (existing.CreateNetworkPolicy, existing.AlignNetworkPolicy));
        Assert.Equal((true, false), (missing.CreateNetworkPolicy, missing.AlignNetworkPolicy));
        Assert.Equal((false, false), (done.CreateNetworkPolicy, done.AlignNetworkPolicy));
    }

    [Fact]
    public void AllReady_IsRunning_AndCreatesNothing()
    {
        LowCommJob job = Jobs.New();
        ReconcilePlan plan = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0);

        Assert.Empty(plan.CreatePods);
        Assert.Empty(plan.DeletePods);
        Assert.Equal(JobPhase.Running, plan.Status.Phase);
        Assert.Equal("4/4", plan.Status.Ready);
        Assert.Contains(plan.Status.Conditions, c => c.Type == "Running" && c.Status == "True");
    }

    [Fact]
    public void FailedReplica_IsCountedOnce_KeptThroughTheBackoff_ThenReplacedAlone()
    {
        LowCommJob job = Jobs.New();
        V1Pod[] pods = Jobs.Running(job);
        pods[2] = Jobs.Pod(job, 2, "Failed", exitCode: 137, reason: "OOMKilled");

        ReconcilePlan failed = Jobs.Reconcile(job, pods, Jobs.T0);
        ReplicaStatus replica = failed.Status.Replicas[2];
        Assert.Equal(JobPhase.Restarting, failed.Status.Phase);
        Assert.Equal((1, 1, 137), (failed.Status.Restarts, replica.Restarts, replica.LastExitCode));
        Assert.Equal(Jobs.T0.AddSeconds(10), replica.RestartAfter);
        Assert.Empty(failed.DeletePods);
        Assert.Empty(failed.CreatePods);
        Assert.Equal(TimeSpan.FromSeconds(10), failed.RequeueAfter);
        JobEvent warning = Assert.Single(failed.Events);
        Assert.Equal(("Warning", "ReplicaFailed"), (warning.Type, warning.Reason));
        Assert.Contains("Replica 2 exited with code 137 (OOMKilled)", warning.Message);

        job = job.With(failed);
        ReconcilePlan again = Jobs.Reconcile(job, pods, Jobs.T0.AddSeconds(5));
        Assert.Equal(1, again.Status.Restarts); // the same failed pod is not counted twice
        Assert.Empty(again.Events);
        Assert.Empty(again.DeletePods);

        ReconcilePlan due = Jobs.Reconcile(job.With(again), pods, Jobs.T0.AddSeconds(10));
        Assert.Equal(["train-2"], due.DeletePods);

        V1Pod[] withoutTwo = [.. pods.Where(p => p.Metadata.Name != "train-2")];
        ReconcilePlan recreated = Jobs.Reconcile(job.With(due), withoutTwo, Jobs.T0.AddSeconds(11));
        V1Pod replacement = Assert.Single(recreated.CreatePods);
        Assert.Equal("train-2", replacement.Metadata.Name);
        Assert.Equal("1", replacement.Metadata.Annotations[DesiredObjects.RestartsAnnotation]);
        Assert.Contains(recreated.Events, e => e.Reason == "ReplicaRestarted");
    }

    [Fact]
    public void Backoff_DoublesPerRestartOfTheSameReplica_UpToTheCap()
    {
        var backoff = new BackoffSpec { InitialSeconds = 10, MaxSeconds = 60 };
        Assert.Equal([10, 20, 40, 60, 60], Enumerable.Range(1, 5).Select(n => RestartPolicy.Backoff(backoff, n).TotalSeconds));
    }

    [Fact]
    public void PastMaxRestarts_TheJobFails_WithTheReason_AndItsRunningPodsAreDeleted()
    {
        LowCommJob job = WithRestarts(Jobs.New(), 3);
        V1Pod[] pods = Jobs.Running(job);
        pods[1] = Jobs.Pod(job, 1, "Failed", exitCode: 1);

        ReconcilePlan plan = Jobs.Reconcile(job, pods, Jobs.T0);

        Assert.Equal(JobPhase.Failed, plan.Status.Phase);
        Assert.Contains("more than maxRestarts (3)", plan.Status.Message);
        Assert.Contains("replica 1 exited with code 1", plan.Status.Message);
        Assert.Equal(["train-0", "train-2", "train-3"], plan.DeletePods.Order());
        Assert.Contains(plan.Events, e => e.Reason == "MaxRestartsExceeded" && e.Type == "Warning");
        Assert.Contains(plan.Status.Conditions, c => c.Type == "Failed" && c.Status == "True" && c.Reason == "MaxRestartsExceeded");
    }

    [Fact]
    public void Eviction_IsRestartedWithoutCountingTowardsMaxRestarts()
    {
        LowCommJob job = Jobs.New();
        V1Pod[] pods = Jobs.Running(job);
        pods[0] = Jobs.Pod(job, 0, "Failed", reason: "Evicted");

        ReconcilePlan plan = Jobs.Reconcile(job, pods, Jobs.T0);

        Assert.Equal(0, plan.Status.Restarts);
        Assert.Equal(1, plan.Status.Replicas[0].Restarts);
        Assert.Contains("not counted", Assert.Single(plan.Events).Message);
    }

    [Theory]
    [InlineData(2, null, JobPhase.Failed)]          // the trainer's configuration error
    [InlineData(3, "FailJob", JobPhase.Failed)]     // a rule
    [InlineData(3, null, JobPhase.Restarting)]      // anything else is retried
    public void ExitCodeRules_DecideBetweenRestartAndFail(int exitCode, string? ruleAction, JobPhase expected)
    {
        LowCommJob job = Jobs.New(edit: s => ruleAction is null ? s : s with
        {
            FaultTolerance = s.FaultTolerance with { Rules = [new ExitCodeRule { ExitCodes = [3], Action = Enum.Parse<FailureAction>(ruleAction) }] },
        });
        V1Pod[] pods = Jobs.Running(job);
        pods[3] = Jobs.Pod(job, 3, "Failed", exitCode: exitCode);

        Assert.Equal(expected, Jobs.Reconcile(job, pods, Jobs.T0).Status.Phase);
    }

    [Fact]
    public void Suspend_DeletesPodsAndKeepsStatus_ResumeRecreatesThemAndResetsTheDeadlineClock()
    {
        LowCommJob job = Jobs.New();
        ReconcilePlan running = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0);
        LowCommJob suspended = new() { Metadata = job.Metadata, Spec = job.Spec with { Suspend = true }, Status = running.Status with { Restarts = 2 } };

        ReconcilePlan plan = Jobs.Reconcile(suspended, Jobs.Running(job), Jobs.T0.AddMinutes(1));
        Assert.Equal(JobPhase.Suspended, plan.Status.Phase);
        Assert.Equal(4, plan.DeletePods.Count);
        Assert.Equal(2, plan.Status.Restarts);
        Assert.False(plan.CreateService);
        Assert.Contains(plan.Events, e => e.Reason == "Suspended");

        LowCommJob resumed = new() { Metadata = job.Metadata, Spec = job.Spec, Status = plan.Status };
        ReconcilePlan resume = Jobs.Reconcile(resumed, [], Jobs.T0.AddMinutes(5));
        Assert.Equal(4, resume.CreatePods.Count);
        Assert.Equal(Jobs.T0.AddMinutes(5), resume.Status.StartTime);
        Assert.Contains(resume.Events, e => e.Reason == "Resumed");
        Assert.Contains(resume.Status.Conditions, c => c.Type == "Suspended" && c.Status == "False" && c.Reason == "Resumed");
    }

    [Fact]
    public void ActiveDeadline_FailsTheJobAndStopsItsPods()
    {
        LowCommJob job = Jobs.New(edit: s => s with { ActiveDeadlineSeconds = 60 });
        ReconcilePlan early = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0);
        Assert.Equal(TimeSpan.FromSeconds(60), early.RequeueAfter);

        ReconcilePlan late = Jobs.Reconcile(job.With(early), Jobs.Running(job), Jobs.T0.AddSeconds(60));
        Assert.Equal(JobPhase.Failed, late.Status.Phase);
        Assert.Contains(late.Status.Conditions, c => c.Type == "Failed" && c.Reason == "DeadlineExceeded");
        Assert.Equal(4, late.DeletePods.Count);
    }

    [Fact]
    public void RankZeroFinished_JobSucceeds_NothingIsRecreated_AndTheTtlDeletesItLater()
    {
        LowCommJob job = Jobs.New(edit: s => s with { TtlSecondsAfterFinished = 30 });
        V1Pod[] pods = [Jobs.Pod(job, 0, "Succeeded", exitCode: 0), Jobs.Pod(job, 1, "Running"), Jobs.Pod(job, 2, "Failed", exitCode: 137)];

        ReconcilePlan done = Jobs.Reconcile(job, pods, Jobs.T0);
        Assert.Equal(JobPhase.Succeeded, done.Status.Phase);
        Assert.Empty(done.CreatePods);
        Assert.Empty(done.DeletePods);
        Assert.Equal(TimeSpan.FromSeconds(30), done.RequeueAfter);

        Assert.False(Jobs.Reconcile(job.With(done), pods, Jobs.T0.AddSeconds(29)).DeleteJob);
        Assert.True(Jobs.Reconcile(job.With(done), pods, Jobs.T0.AddSeconds(30)).DeleteJob);
    }

    [Fact]
    public void TrainerReport_FillsProgressAndBytes_AndASentPeriodChangeIsRecordedOnceUntilItsSwitchStep()
    {
        LowCommJob job = Jobs.New();
        var change = new PeriodChange { Periods = new Dictionary<string, int> { ["params"] = 64, ["m1"] = 192, ["m2"] = 384 }, SwitchStep = 300, Reason = "slow link" };
        var periods = new Dictionary<string, int> { ["params"] = 32, ["m1"] = 96, ["m2"] = 192 };
        var report = new TrainerReport(250, 2.5, 1000, 32000, 1e8, 0.4, periods, change);

        ReconcilePlan sent = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0, report);
        Assert.Equal(250, sent.Status.Step);
        Assert.Equal(32.0, sent.Status.Communication!.Reduction);
        Assert.Equal(change, sent.Status.Sync!.Pending);
        Assert.Equal(1, sent.Status.Sync.Changes);
        Assert.Contains(sent.Events, e => e.Reason == "SyncPeriodsChanged" && e.Message.Contains("from step 300", StringComparison.Ordinal));

        ReconcilePlan later = Jobs.Reconcile(job.With(sent), Jobs.Running(job), Jobs.T0.AddSeconds(10), report with { Step = 301, SentChange = null });
        Assert.Null(later.Status.Sync!.Pending);
        Assert.Empty(later.Events);
    }

    [Fact]
    public void TrainerReport_HeldOutLoss_GoesToTheStatusWithPerplexityAndStep_AndStaysUntilANewerOne()
    {
        LowCommJob job = Jobs.New();
        var periods = new Dictionary<string, int> { ["params"] = 32 };
        var report = new TrainerReport(250, 2.5, 1000, 32000, 1e8, 0.4, periods, EvalLoss: 1.23456, EvalStep: 200);

        ReconcilePlan evaluated = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0, report);
        Assert.Equal((1.2346, 3.4369, 200L), (evaluated.Status.EvalLoss, evaluated.Status.EvalPerplexity, evaluated.Status.EvalStep));

        // A restarted rank 0 has not evaluated yet: the status keeps the last held-out loss.
        ReconcilePlan restarted = Jobs.Reconcile(job.With(evaluated), Jobs.Running(job), Jobs.T0.AddSeconds(5), report with { Step = 210, EvalLoss = double.NaN, EvalStep = 0 });
        Assert.Equal((1.2346, 200L), (restarted.Status.EvalLoss, restarted.Status.EvalStep));

        ReconcilePlan newer = Jobs.Reconcile(job.With(restarted), Jobs.Running(job), Jobs.T0.AddSeconds(10), report with { Step = 400, EvalLoss = 1.0, EvalStep = 400 });
        Assert.Equal((1.0, 2.7183, 400L), (newer.Status.EvalLoss, newer.Status.EvalPerplexity, newer.Status.EvalStep));
    }

    [Fact]
    public void InvalidSpec_FailsTheJobWithTheFieldNamed()
    {
        LowCommJob job = Jobs.New(edit: s => s with { Algorithm = new AlgorithmSpec { Dct = new DctSettings { Chunk = 8, TopK = 65 } } });
        ReconcilePlan plan = Jobs.Reconcile(job, [], Jobs.T0);

        Assert.Equal(JobPhase.Failed, plan.Status.Phase);
        Assert.Contains("spec.algorithm.dct.topK", plan.Status.Message);
        Assert.Empty(plan.CreatePods);
    }

    [Fact]
    public void ModelLargerThanTheTrainersMemoryLimit_FailsTheJobWithTheNumbers_BeforeAnyPod()
    {
        // dim 4096 x 64 layers is about 12.9 billion parameters: over 200 GiB of float32 state per worker.
        LowCommJob job = Jobs.New(edit: s => s with
        {
            Model = new ModelSpec { Dim = 4096, Layers = 64, Heads = 32 },
            Template = WithMemoryLimit(s.Template, "16Gi"),
        });
        ReconcilePlan plan = Jobs.Reconcile(job, [], Jobs.T0);

        Assert.Equal(JobPhase.Failed, plan.Status.Phase);
        Assert.Contains(MemoryFit.LimitField, plan.Status.Message);
        Assert.Contains("16Gi is less than the", plan.Status.Message);
        Assert.Empty(plan.CreatePods);

        LowCommJob fits = Jobs.New(edit: s => s with { Template = WithMemoryLimit(s.Template, "2Gi") });
        Assert.NotEmpty(Jobs.Reconcile(fits, [], Jobs.T0).CreatePods);
    }

    private static V1PodTemplateSpec WithMemoryLimit(V1PodTemplateSpec template, string limit)
    {
        V1Container trainer = template.Spec.Containers.Single(c => c.Name == "trainer");
        trainer.Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new ResourceQuantity(limit) } };
        return template;
    }

    private static LowCommJob WithRestarts(LowCommJob job, int restarts) =>
        new() { Metadata = job.Metadata, Spec = job.Spec, Status = new LowCommJobStatus { Restarts = restarts, Phase = JobPhase.Running } };
}
