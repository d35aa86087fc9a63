using System.Text;
using System.Text.Json.Nodes;
using DesLoc.Contract.Wire;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Validation;
using DesLoc.Operator.Metrics;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Tests.Chart;
using DesLoc.Operator.Tests.Reconciliation;
using DesLoc.Operator.Trainers;
using DesLoc.Testing.Kubernetes;
using DesLoc.Testing.Kubernetes.Validation;
using DesLoc.Transport.Protocol;

namespace DesLoc.Operator.Tests.TwoTier;

/// <summary>Bytes by tier (DESIGN.md §6), the status and metrics that show them, and the placement rule.</summary>
public sealed class TwoTierCommunicationTests
{
    private static StatusReply Reply(int replica, int worker, long inter, long intra, long ddp)
    {
        var reply = new StatusReply { Rank = replica, Worker = worker, DdpEquivalentBytes = ddp };
        reply.BytesSent.Add("params", inter - (inter / 3));
        reply.BytesSent.Add("m1", inter / 3);
        reply.IntraBytesSent.Add("gradients", intra);
        return reply;
    }

    [Fact]
    public void JobBytes_SumInterAndIntraOverWorkers_AndCountDdpOncePerReplica()
    {
        var topology = new JobTopology(2, 2);
        var replies = new Dictionary<int, StatusReply>
        {
            [0] = Reply(0, 0, inter: 300, intra: 5_000, ddp: 90_000),
            [1] = Reply(0, 1, inter: 330, intra: 5_100, ddp: 90_000),
            [2] = Reply(1, 0, inter: 303, intra: 4_900, ddp: 90_000),
            [3] = Reply(1, 1, inter: 306, intra: 5_000, ddp: 90_000),
        };

        (long inter, long intra, long ddp) = JobBytes.Sum(topology, replies);

        Assert.Equal(300 + 330 + 303 + 306, inter);
        Assert.Equal(5_000 + 5_100 + 4_900 + 5_000, intra);
        Assert.Equal(2 * 90_000, ddp);

        // A worker that restarted reports a smaller count for its replica: the replica's figure is its largest.
        replies[3] = Reply(1, 1, inter: 0, intra: 0, ddp: 10);
        Assert.Equal(2 * 90_000, JobBytes.Sum(topology, replies).DdpEquivalent);
        // With one worker per replica every reply is its own replica's, so each counts.
        Assert.Equal((3 * 90_000) + 10, JobBytes.Sum(new JobTopology(4, 1), replies).DdpEquivalent);
    }

    [Fact]
    public void Status_ShowsBothTiers_TheReductionIsOverTheInterTier_AndOneWorkerPerReplicaHasNoIntraField()
    {
        var report = new TrainerReport(Step: 100, Loss: 2.5, BytesSent: 1_000, DdpEquivalentBytes: 50_000, BandwidthBytesPerSecond: 1e6,
            CommFraction: 0.02, Periods: new Dictionary<string, int> { ["params"] = 32 }, IntraBytesSent: 400_000);
        LowCommJob twoTier = Jobs.New(replicas: 2, edit: s => s with { WorkersPerReplica = 2 });
        ReconcilePlan plan = JobReconciler.Reconcile(new JobObservation(twoTier, [], true, true, report, Jobs.T0),
            ReplicaLayout.Cluster("train", "ml", new CheckpointSpec(), 2));

        CommunicationStatus communication = plan.Status.Communication!;
        Assert.Equal((1_000, 400_000L, 50_000), (communication.BytesSent, communication.IntraBytesSent, communication.DdpEquivalentBytes));
        Assert.Equal(50.0, communication.Reduction);

        ReconcilePlan flat = Jobs.Reconcile(Jobs.New(replicas: 2), [], Jobs.T0, report);
        Assert.Null(flat.Status.Communication!.IntraBytesSent);
        Assert.DoesNotContain("intraBytesSent", k8s.KubernetesJson.Serialize(flat.Status), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_ExportBytesByTier_AndForgetBothTiersWithTheJob()
    {
        var metrics = new OperatorMetrics();
        LowCommJob job = Jobs.New(replicas: 2, edit: s => s with { WorkersPerReplica = 2 });
        var status = new LowCommJobStatus { Communication = new CommunicationStatus { BytesSent = 1234, IntraBytesSent = 98765, DdpEquivalentBytes = 50000, Reduction = 40.5 } };
        var plan = new ReconcilePlan(status, false, false, [], [], [], null, false);

        metrics.Reconciled(plan, job, TimeSpan.FromMilliseconds(1), ReconcileResult.Success);
        string exposition = await Scrape(metrics);
        Assert.Contains("desloc_job_bytes_sent{namespace=\"ml\",job=\"train\",tier=\"inter\"} 1234", exposition);
        Assert.Contains("desloc_job_bytes_sent{namespace=\"ml\",job=\"train\",tier=\"intra\"} 98765", exposition);

        metrics.Forget("ml", "train");
        Assert.DoesNotContain("desloc_job_bytes_sent{", await Scrape(metrics));
    }

    [Fact]
    public void PlacementWithMoreEntriesThanReplicas_IsRefusedByTheCrdsCelRuleAndByTheOperator_NamingTheField()
    {
        JsonNode schema = RepoFiles.YamlFile(RepoFiles.Path("crds", "desloc.dev_lowcommjobs.yaml"))["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!;
        JsonNode Manifest(int entries)
        {
            JsonNode sample = RepoFiles.YamlFile(RepoFiles.Path("samples", "two-tier.yaml"));
            var list = new JsonArray();
            for (int i = 0; i < entries; i++)
            {
                list.Add(new JsonObject { ["nodeSelector"] = new JsonObject { ["zone"] = $"z{i}" } });
            }

            sample["spec"]!["placement"]!["replicas"] = list;
            StructuralSchema.ApplyDefaults(sample, schema);
            return sample;
        }

        Assert.Empty(StructuralSchema.Validate(Manifest(2), schema));
        FieldViolation refused = Assert.Single(StructuralSchema.Validate(Manifest(3), schema));
        Assert.Equal("spec.placement.replicas", refused.Field);
        Assert.Contains("must not have more entries than replicas", refused.Message, StringComparison.Ordinal);

        LowCommJobSpec Spec(int entries) => Jobs.New(replicas: 2, edit: s => s with
        {
            Placement = new PlacementSpec { Replicas = [.. Enumerable.Range(0, entries).Select(_ => new ReplicaPlacementSpec())] },
        }).Spec;
        Assert.Empty(LowCommJobValidation.Validate(Spec(2)));
        Assert.Contains(LowCommJobValidation.Validate(Spec(3)), e => e.Field == "spec.placement.replicas");
    }

    private static async Task<string> Scrape(OperatorMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
