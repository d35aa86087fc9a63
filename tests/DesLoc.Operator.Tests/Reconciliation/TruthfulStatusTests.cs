using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using k8s.Models;

namespace DesLoc.Operator.Tests.Reconciliation;

/// <summary>
/// What the status and Events say after failures, resumes and refusals: the trainer's own reason, conditions that
/// are true, and no restarts counted for a job that failed on its configuration.
/// </summary>
public sealed class TruthfulStatusTests
{
    private const string Reason = "Invalid job configuration, nothing was trained: spec.data.path: no file at '/data/book.txt'";

    [Fact]
    public void ConfigurationError_OfEveryReplica_FailsTheJobWithTheTrainersReason_AndCountsNoRestart()
    {
        LowCommJob job = Jobs.New(replicas: 3);
        V1Pod[] oneStarting = [.. Jobs.Running(job)];
        oneStarting[2] = Jobs.Pod(job, 2, "Pending");
        LowCommJob degraded = job.With(Jobs.Reconcile(job.With(Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0)), oneStarting, Jobs.T0.AddSeconds(1)));
        LowCommJob running = degraded.With(Jobs.Reconcile(degraded, Jobs.Running(job), Jobs.T0.AddSeconds(2)));
        Assert.Contains(running.Status!.Conditions, c => c.Type == "Degraded" && c.Message == "All replicas are ready.");
        V1Pod[] failed = [.. Enumerable.Range(0, 3).Select(i => Jobs.Pod(job, i, "Failed", exitCode: 2, message: Reason))];

        ReconcilePlan plan = Jobs.Reconcile(running, failed, Jobs.T0.AddSeconds(5));

        Assert.Equal(JobPhase.Failed, plan.Status.Phase);
        Assert.Equal(0, plan.Status.Restarts);
        Assert.Contains(Reason, plan.Status.Message);
        Assert.Contains(plan.Status.Conditions, c => c.Type == "Failed" && c.Status == "True" && c.Message.Contains(Reason, StringComparison.Ordinal));
        Assert.Contains(plan.Events, e => e.Type == "Warning" && e.Message.Contains(Reason, StringComparison.Ordinal));
        Assert.Equal(Reason, plan.Status.Replicas[0].LastFailureMessage);
        // Not "All replicas are ready": no replica trains any more.
        V1Condition afterFailure = Assert.Single(plan.Status.Conditions, c => c.Type == "Degraded");
        Assert.Equal("False", afterFailure.Status);
        Assert.DoesNotContain("All replicas are ready", afterFailure.Message, StringComparison.Ordinal);
        Assert.Contains(plan.Status.Conditions, c => c.Type == "Running" && c.Status == "False");
    }

    [Fact]
    public void RestartedReplica_EventCarriesTheTrainersLastWords()
    {
        LowCommJob job = Jobs.New();
        LowCommJob running = job.With(Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0));
        V1Pod[] pods = [.. Jobs.Running(job)];
        pods[1] = Jobs.Pod(job, 1, "Failed", exitCode: 1, message: "The trainer failed: IOException: disk full");

        ReconcilePlan plan = Jobs.Reconcile(running, pods, Jobs.T0.AddSeconds(5));

        Assert.Equal(JobPhase.Restarting, plan.Status.Phase);
        Assert.Contains(plan.Events, e => e.Reason == "ReplicaFailed" && e.Message.Contains("disk full", StringComparison.Ordinal));
        Assert.Contains(plan.Status.Conditions, c => c.Type == "Degraded" && c.Status == "True");
    }

    [Fact]
    public void ResumedJob_IsPendingWhileItsPodsStart_NotRestartingOrDegraded()
    {
        LowCommJob job = Jobs.New();
        ReconcilePlan running = Jobs.Reconcile(job, Jobs.Running(job), Jobs.T0);
        LowCommJob suspended = new() { Metadata = job.Metadata, Spec = job.Spec with { Suspend = true }, Status = running.Status with { Restarts = 2 } };
        suspended = suspended.With(Jobs.Reconcile(suspended, Jobs.Running(job), Jobs.T0.AddMinutes(1)));
        LowCommJob resumed = new() { Metadata = job.Metadata, Spec = job.Spec, Status = suspended.Status };

        ReconcilePlan created = Jobs.Reconcile(resumed, [], Jobs.T0.AddMinutes(5));
        ReconcilePlan starting = Jobs.Reconcile(resumed.With(created), [.. Enumerable.Range(0, 4).Select(i => Jobs.Pod(job, i, "Pending"))], Jobs.T0.AddMinutes(5.1));

        Assert.Equal(JobPhase.Pending, created.Status.Phase);
        Assert.Equal(JobPhase.Pending, starting.Status.Phase);
        Assert.All(starting.Status.Replicas, r => Assert.Equal(ReplicaPhase.Pending, r.Phase));
        Assert.DoesNotContain(created.Events, e => e.Reason == "ReplicaRestarted");
        Assert.Equal(2, starting.Status.Restarts);
    }

    [Fact]
    public void RefusedPods_SetReplicaFailureWithTheApiServersWords_AndItClearsOnceCreated()
    {
        const string Words = "pods \"train-0\" is forbidden: exceeded quota: gpu, requested: nvidia.com/gpu=1, used: nvidia.com/gpu=8, limited: nvidia.com/gpu=8";
        LowCommJobStatus status = Jobs.Reconcile(Jobs.New(), [], Jobs.T0).Status;

        (LowCommJobStatus refused, IReadOnlyList<JobEvent> events) = JobReconciler.AfterCreation(status, [new CreationRefusal("train-0", Words)], Jobs.T0, 1);
        (LowCommJobStatus created, IReadOnlyList<JobEvent> none) = JobReconciler.AfterCreation(refused, [], Jobs.T0.AddSeconds(10), 1);

        Assert.Contains(refused.Conditions, c => c.Type == "ReplicaFailure" && c.Status == "True" && c.Reason == "FailedCreate" && c.Message.Contains(Words, StringComparison.Ordinal));
        JobEvent failedCreate = Assert.Single(events);
        Assert.Equal(("Warning", "FailedCreate"), (failedCreate.Type, failedCreate.Reason));
        Assert.Contains(Words, failedCreate.Message);
        Assert.Contains(created.Conditions, c => c.Type == "ReplicaFailure" && c.Status == "False");
        Assert.Empty(none);
    }
}
