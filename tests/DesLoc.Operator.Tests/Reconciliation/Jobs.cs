using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using k8s.Models;

namespace DesLoc.Operator.Tests.Reconciliation;

/// <summary>Jobs and pods for reconciler tests: pods are what the reconciler asked for, with the status a kubelet would give them.</summary>
internal static class Jobs
{
    public static readonly DateTime T0 = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);

    public static LowCommJob New(int replicas = 4, Func<LowCommJobSpec, LowCommJobSpec>? edit = null)
    {
        var spec = new LowCommJobSpec
        {
            Replicas = replicas,
            Template = new V1PodTemplateSpec
            {
                Spec = new V1PodSpec
                {
                    Containers =
                    [
                        new V1Container
                        {
                            Name = "trainer",
                            Image = "trainer:1",
                            Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["nvidia.com/gpu"] = new("1") } },
                        },
                    ],
                },
            },
            FaultTolerance = new FaultToleranceSpec { MaxRestarts = 3, Backoff = new BackoffSpec { InitialSeconds = 10, MaxSeconds = 60 } },
        };
        return new LowCommJob
        {
            Metadata = new V1ObjectMeta { Name = "train", NamespaceProperty = "ml", Uid = "job-uid", Generation = 1 },
            Spec = edit is null ? spec : edit(spec),
        };
    }

    public static ReplicaLayout Layout => ReplicaLayout.Cluster("train", "ml", new CheckpointSpec());

    public static V1Pod Pod(LowCommJob job, int index, string phase, int? exitCode = null, string? reason = null, string? uid = null, int restarts = 0, string? message = null)
    {
        V1Pod pod = DesiredObjects.Pod(job, index, Layout, restarts);
        pod.Metadata.Uid = uid ?? $"pod-{index}";
        pod.Status = new V1PodStatus
        {
            Phase = phase,
            Reason = reason,
            Conditions = [new V1PodCondition { Type = "Ready", Status = phase == "Running" ? "True" : "False" }],
            ContainerStatuses = exitCode is { } code
                ? [new V1ContainerStatus { Name = "trainer", State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = code, FinishedAt = T0, Message = message } } }]
                : [],
        };
        return pod;
    }

    public static V1Pod[] Running(LowCommJob job) => [.. Enumerable.Range(0, job.Spec.Replicas).Select(i => Pod(job, i, "Running"))];

    public static ReconcilePlan Reconcile(LowCommJob job, IEnumerable<V1Pod> pods, DateTime now, TrainerReport? report = null) =>
        JobReconciler.Reconcile(new JobObservation(job, [.. pods], HasService: true, HasSecret: true, report, now), Layout);

    /// <summary>The job as the next reconcile sees it: with the status the last one wrote.</summary>
    public static LowCommJob With(this LowCommJob job, ReconcilePlan plan) =>
        new() { Metadata = job.Metadata, Spec = job.Spec, Status = plan.Status };
}
