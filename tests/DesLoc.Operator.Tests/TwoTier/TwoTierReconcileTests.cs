using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Tests.Reconciliation;
using k8s.Models;

namespace DesLoc.Operator.Tests.TwoTier;

/// <summary>Replicas of several workers (DESIGN.md §6), as the reconciler plans them: pods, env, placement, restarts, status.</summary>
public sealed class TwoTierReconcileTests
{
    private static readonly ReplicaLayout s_layout = ReplicaLayout.Cluster("train", "ml", new CheckpointSpec(), workersPerReplica: 2);

    private static LowCommJob TwoByTwo(PlacementSpec? placement = null) =>
        Jobs.New(replicas: 2, edit: spec => spec with { WorkersPerReplica = 2, Placement = placement });

    private static ReconcilePlan Reconcile(LowCommJob job, IEnumerable<V1Pod> pods, DateTime now) =>
        JobReconciler.Reconcile(new JobObservation(job, [.. pods], HasService: true, HasSecret: true, null, now), s_layout);

    /// <summary>A pod of the plan, with the status a kubelet would give it.</summary>
    private static V1Pod As(V1Pod pod, string phase, int? exitCode = null)
    {
        pod.Metadata.Uid = $"uid-{pod.Metadata.Name}-{Guid.NewGuid():N}";
        pod.Status = new V1PodStatus
        {
            Phase = phase,
            Conditions = [new V1PodCondition { Type = "Ready", Status = phase == "Running" ? "True" : "False" }],
            ContainerStatuses = exitCode is { } code
                ? [new V1ContainerStatus { Name = "trainer", State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = code, FinishedAt = Jobs.T0 } } }]
                : [],
        };
        return pod;
    }

    private static Dictionary<string, string?> Env(V1Pod pod) =>
        pod.Spec.Containers.Single(c => c.Name == "trainer").Env.ToDictionary(e => e.Name, string? (e) => e.Value);

    [Fact]
    public void TwoReplicasOfTwoWorkers_AreFourPods_NamedLabelledAndWiredReplicaMajor()
    {
        ReconcilePlan plan = Reconcile(TwoByTwo(), [], Jobs.T0);

        Assert.Equal(["train-0-0", "train-0-1", "train-1-0", "train-1-1"], plan.CreatePods.Select(p => p.Metadata.Name));
        const string peers = "train-0-0.train.ml.svc:29500,train-0-1.train.ml.svc:29500,train-1-0.train.ml.svc:29500,train-1-1.train.ml.svc:29500";
        foreach (V1Pod pod in plan.CreatePods)
        {
            string replica = pod.Metadata.Name.Split('-')[1];
            string worker = pod.Metadata.Name.Split('-')[2];
            Assert.Equal(replica, pod.Metadata.Labels[JobNames.ReplicaLabel]);
            Assert.Equal(worker, pod.Metadata.Labels[JobNames.WorkerLabel]);
            Assert.Equal("train", pod.Metadata.Labels[JobNames.JobLabel]);
            // Each worker resolves as HOSTNAME.SUBDOMAIN under the headless Service: the names in DESLOC_PEERS.
            Assert.Equal(pod.Metadata.Name, pod.Spec.Hostname);
            Assert.Equal("train", pod.Spec.Subdomain);
            Dictionary<string, string?> env = Env(pod);
            Assert.Equal(replica, env["DESLOC_RANK"]);
            Assert.Equal("2", env["DESLOC_WORLD_SIZE"]);
            Assert.Equal(worker, env["DESLOC_WORKER"]);
            Assert.Equal("2", env["DESLOC_WORKERS_PER_REPLICA"]);
            Assert.Equal(peers, env["DESLOC_PEERS"]);
            Assert.Equal("29500", env["DESLOC_GRPC_PORT"]);
        }

        Assert.Equal("0/2", plan.Status.Ready);
        Assert.Equal("0/4", plan.Status.WorkersReady);
        Assert.All(plan.Status.Replicas, r => Assert.Equal([0, 1], r.Workers!.Select(w => w.Index)));
        Assert.Equal("train-1-1", plan.Status.Replicas[1].Workers![1].Pod);
    }

    [Fact]
    public void OneWorkerPerReplica_KeepsTodaysNamesEnvironmentAndStatusShape()
    {
        LowCommJob job = Jobs.New(replicas: 2);
        ReconcilePlan plan = Jobs.Reconcile(job, [], Jobs.T0);

        Assert.Equal(["train-0", "train-1"], plan.CreatePods.Select(p => p.Metadata.Name));
        Dictionary<string, string?> env = Env(plan.CreatePods[1]);
        Assert.Equal("1", env["DESLOC_RANK"]);
        Assert.Equal("train-0.train.ml.svc:29500,train-1.train.ml.svc:29500", env["DESLOC_PEERS"]);
        Assert.False(env.ContainsKey("DESLOC_WORKER"));
        Assert.False(env.ContainsKey("DESLOC_WORKERS_PER_REPLICA"));
        Assert.Null(plan.CreatePods[1].Spec.Affinity);

        ReconcilePlan running = Jobs.Reconcile(job.With(plan), Jobs.Running(job), Jobs.T0.AddSeconds(5));
        Assert.All(running.Status.Replicas, r => Assert.Null(r.Workers));
        Assert.Equal("train-1", running.Status.Replicas[1].Pod);
        Assert.Equal(("2/2", "2/2"), (running.Status.Ready, running.Status.WorkersReady));
    }

    [Fact]
    public void Placement_GivesEachPodItsReplicasAffinityAntiAffinitySelectorAndTolerations()
    {
        var placement = new PlacementSpec
        {
            ReplicaTopologyKey = "topology.kubernetes.io/zone",
            Replicas =
            [
                new ReplicaPlacementSpec { NodeSelector = new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = "a", ["pool"] = "site-a" } },
                new ReplicaPlacementSpec { Tolerations = [new V1Toleration { Key = "nvidia.com/gpu", OperatorProperty = "Equal", Value = "b", Effect = "NoSchedule" }] },
            ],
        };
        LowCommJob job = TwoByTwo(placement);
        job.Spec.Template.Spec.NodeSelector = new Dictionary<string, string> { ["pool"] = "template", ["accelerator"] = "h100" };
        job.Spec.Template.Spec.Tolerations = [new V1Toleration { Key = "nvidia.com/gpu", OperatorProperty = "Exists", Effect = "NoSchedule" }, new V1Toleration { Key = "spot", OperatorProperty = "Exists" }];

        ReconcilePlan plan = Reconcile(job, [], Jobs.T0);

        foreach (V1Pod pod in plan.CreatePods)
        {
            string replica = pod.Metadata.Labels[JobNames.ReplicaLabel];
            V1PodAffinityTerm together = Assert.Single(pod.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution);
            Assert.Equal("topology.kubernetes.io/zone", together.TopologyKey);
            Assert.Equal(new Dictionary<string, string> { [JobNames.JobLabel] = "train", [JobNames.ReplicaLabel] = replica }, together.LabelSelector.MatchLabels);
            V1PodAffinityTerm apart = Assert.Single(pod.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution);
            Assert.Equal("topology.kubernetes.io/zone", apart.TopologyKey);
            Assert.Equal(new Dictionary<string, string> { [JobNames.JobLabel] = "train" }, apart.LabelSelector.MatchLabels);
            V1LabelSelectorRequirement other = Assert.Single(apart.LabelSelector.MatchExpressions);
            Assert.Equal((JobNames.ReplicaLabel, "NotIn"), (other.Key, other.OperatorProperty));
            Assert.Equal([replica], other.Values);
        }

        V1PodSpec zeroSpec = plan.CreatePods.Single(p => p.Metadata.Name == "train-0-1").Spec;
        Assert.Equal(new Dictionary<string, string> { ["pool"] = "site-a", ["accelerator"] = "h100", ["topology.kubernetes.io/zone"] = "a" }, zeroSpec.NodeSelector);
        Assert.Equal(["nvidia.com/gpu", "spot"], zeroSpec.Tolerations.Select(t => t.Key));
        Assert.Equal("Exists", zeroSpec.Tolerations[0].OperatorProperty);

        V1PodSpec oneSpec = plan.CreatePods.Single(p => p.Metadata.Name == "train-1-0").Spec;
        Assert.Equal(new Dictionary<string, string> { ["pool"] = "template", ["accelerator"] = "h100" }, oneSpec.NodeSelector);
        // Replica 1's toleration replaces the template's of the same key and effect; the rest stay.
        Assert.Equal(["spot", "nvidia.com/gpu"], oneSpec.Tolerations.Select(t => t.Key));
        Assert.Equal(("Equal", "b"), (oneSpec.Tolerations[1].OperatorProperty, oneSpec.Tolerations[1].Value));
        // The job's template is not changed by the placement of its pods.
        Assert.Equal("template", job.Spec.Template.Spec.NodeSelector["pool"]);
        Assert.Equal(2, job.Spec.Template.Spec.Tolerations.Count);
    }

    [Fact]
    public void AFailedWorker_IsReplacedAloneAfterItsBackoff_AndItsReplicaIsNotReadyMeanwhile()
    {
        LowCommJob job = TwoByTwo();
        ReconcilePlan created = Reconcile(job, [], Jobs.T0);
        Dictionary<string, V1Pod> pods = created.CreatePods.ToDictionary(p => p.Metadata.Name, p => As(p, "Running"));
        job = job.With(created);
        ReconcilePlan running = Reconcile(job, pods.Values, Jobs.T0.AddSeconds(5));
        Assert.Equal((JobPhase.Running, "2/2", "4/4"), (running.Status.Phase, running.Status.Ready, running.Status.WorkersReady));
        job = job.With(running);

        V1Pod failed = As(DesiredObjects.Pod(job, 1, 0, s_layout, 0), "Failed", exitCode: 137);
        pods["train-1-0"] = failed;
        ReconcilePlan afterFailure = Reconcile(job, pods.Values, Jobs.T0.AddSeconds(10));

        Assert.Empty(afterFailure.CreatePods);
        Assert.Empty(afterFailure.DeletePods); // kept for its logs until the backoff has passed
        Assert.Equal(1, afterFailure.Status.Restarts);
        Assert.Equal(("1/2", "3/4"), (afterFailure.Status.Ready, afterFailure.Status.WorkersReady));
        ReplicaStatus replica = afterFailure.Status.Replicas[1];
        Assert.Equal(ReplicaPhase.Restarting, replica.Phase);
        Assert.Equal(1, replica.Restarts);
        WorkerStatus worker = replica.Workers![0];
        Assert.Equal((ReplicaPhase.Restarting, 1, 137, false), (worker.Phase, worker.Restarts, worker.LastExitCode, worker.Ready));
        Assert.Equal((ReplicaPhase.Running, 0, true), (replica.Workers[1].Phase, replica.Workers[1].Restarts, replica.Workers[1].Ready));
        Assert.All(afterFailure.Status.Replicas[0].Workers!, w => Assert.Equal((ReplicaPhase.Running, 0), (w.Phase, w.Restarts)));
        Assert.Contains(afterFailure.Events, e => e.Reason == "ReplicaFailed" && e.Message.StartsWith("Replica 1 worker 0 exited with code 137", StringComparison.Ordinal));
        job = job.With(afterFailure);

        // After the backoff (10 s) the failed pod is deleted, and then only that worker's pod is created again.
        ReconcilePlan deleting = Reconcile(job, pods.Values, Jobs.T0.AddSeconds(21));
        Assert.Equal(["train-1-0"], deleting.DeletePods);
        Assert.Empty(deleting.CreatePods);
        job = job.With(deleting);
        pods.Remove("train-1-0");
        ReconcilePlan recreating = Reconcile(job, pods.Values, Jobs.T0.AddSeconds(22));
        V1Pod again = Assert.Single(recreating.CreatePods);
        Assert.Equal("train-1-0", again.Metadata.Name);
        Assert.Equal("1", again.Metadata.Annotations[DesiredObjects.RestartsAnnotation]);
        Assert.Contains(recreating.Events, e => e.Reason == "ReplicaRestarted" && e.Message.Contains("replica 1 worker 0", StringComparison.Ordinal));
        Assert.Equal(1, recreating.Status.Restarts); // the restart was counted once
    }

    [Fact]
    public void TrainingEnds_WhenGlobalRankZeroSucceeds()
    {
        LowCommJob job = TwoByTwo();
        ReconcilePlan created = Reconcile(job, [], Jobs.T0);
        Dictionary<string, V1Pod> pods = created.CreatePods.ToDictionary(p => p.Metadata.Name, p => As(p, "Running"));
        job = job.With(created);

        pods["train-0-1"] = As(DesiredObjects.Pod(job, 0, 1, s_layout, 0), "Succeeded", exitCode: 0);
        Assert.NotEqual(JobPhase.Succeeded, Reconcile(job, pods.Values, Jobs.T0.AddSeconds(5)).Status.Phase);

        pods["train-0-0"] = As(DesiredObjects.Pod(job, 0, 0, s_layout, 0), "Succeeded", exitCode: 0);
        Assert.Equal(JobPhase.Succeeded, Reconcile(job, pods.Values, Jobs.T0.AddSeconds(6)).Status.Phase);
    }
}
