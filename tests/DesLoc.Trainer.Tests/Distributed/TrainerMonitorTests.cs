using System.Net;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Controllers;
using DesLoc.Operator.Local;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using DesLoc.Testing;
using DesLoc.Transport.Protocol;
using Grpc.Core;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace DesLoc.Trainer.Tests.Distributed;

/// <summary>The operator's trainer monitor against a scripted rank 0 served over real gRPC.</summary>
public sealed class TrainerMonitorTests
{
    /// <summary>The scripted rank 0 serves cleartext: a job with TLS off.</summary>
    private static readonly JobCredentials s_cleartext = new("token", null);

    /// <summary>
    /// The loop as the operator runs it: the monitor measures rank 0 over a window, the reconciler decides (a pure
    /// part of its plan), the monitor sends the decided change; the change is then carried until a reconcile records
    /// it, so a status write refused as stale (409) cannot lose it.
    /// </summary>
    [Fact]
    public async Task MeasuredWindow_LeadsTheReconcilerToAChange_ThatIsSentAndCarriedUntilRecorded()
    {
        var rankZero = new CostlySyncRankZero();
        await using WebApplication server = await ServeAsync(rankZero);
        string address = server.Urls.Single();
        LowCommJob job = AdaptiveJob("adaptive");
        string key = JobNames.Key(job);
        using var monitor = new TrainerMonitor(NullLogger.Instance);
        ReplicaLayout layout = ReplicaLayout.Cluster(job.Metadata.Name, "ml", job.Spec.Checkpoint);
        V1Pod[] pods = [.. Enumerable.Range(0, 2).Select(i => Running(DesiredObjects.Pod(job, i, layout, 0)))];

        // One poll is a window of no steps: the reconciler does not judge it.
        Assert.True(await monitor.PollAsync(job, address, s_cleartext, default));
        ReconcilePlan early = JobReconciler.Reconcile(new JobObservation(job, pods, true, true, monitor.Latest(key), DateTime.UtcNow), layout);
        Assert.Null(early.Adaptive);

        // Two more polls: 8 steps, two rounds of Kx = 4, at 90% of the time syncing against a 1% target.
        Assert.True(await monitor.PollAsync(job, address, s_cleartext, default));
        Assert.True(await monitor.PollAsync(job, address, s_cleartext, default));
        TrainerReport measured = monitor.Latest(key)!;
        Assert.Equal(8, measured.WindowSteps);
        ReconcilePlan plan = JobReconciler.Reconcile(new JobObservation(job, pods, true, true, measured, DateTime.UtcNow), layout);
        PeriodChange decided = plan.Adaptive?.Change ?? throw new Xunit.Sdk.XunitException("no change decided");
        Assert.Equal(8, decided.Periods["params"]);   // 2x, the most per change
        Assert.NotNull(plan.Status.Sync?.LastDecisionTime);

        Assert.True(await monitor.ApplyAsync(key, plan.Adaptive, default));
        SetSyncPeriodsRequest request = Assert.Single(rankZero.Sent);
        Assert.Equal(decided.SwitchStep, request.SwitchStep);
        PeriodChange sent = monitor.Latest(key)!.SentChange!;
        Assert.Same(decided, sent);

        // A reconcile whose status write failed (409 on a stale copy) never reports back: the change is still carried,
        // and no second change is decided meanwhile.
        ReconcilePlan again = JobReconciler.Reconcile(new JobObservation(job, pods, true, true, monitor.Latest(key), DateTime.UtcNow.AddMinutes(5)), layout);
        Assert.Null(again.Adaptive);
        Assert.Equal(sent, again.Status.Sync!.Pending);
        monitor.Recorded(key, monitor.Latest(key));
        Assert.Null(monitor.Latest(key)!.SentChange);
    }

    private static V1Pod Running(V1Pod pod)
    {
        pod.Metadata.Uid = pod.Metadata.Name;
        pod.Status = new V1PodStatus { Phase = "Running", Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }] };
        return pod;
    }

    private static LowCommJob AdaptiveJob(string name)
    {
        LowCommJob job = ManifestLoader.Parse($"""
            apiVersion: desloc.dev/v1alpha1
            kind: LowCommJob
            metadata:
              name: {name}
            spec:
              replicas: 2
              template:
                spec:
                  containers:
                    - name: trainer
                      image: trainer
            {JobSpecs.AdaptiveTargetOutOfReach}
            """, name);
        job.Metadata.NamespaceProperty = "ml";
        return job;
    }

    private static async Task<WebApplication> ServeAsync(CostlySyncRankZero rankZero)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(rankZero);
        WebApplication app = builder.Build();
        app.MapGrpcService<CostlySyncRankZero>();
        await app.StartAsync();
        return app;
    }

    /// <summary>Rank 0 of a DES-LOC job at Kx = 4 that spends 90% of its time syncing, 4 steps further on every call.</summary>
    private sealed class CostlySyncRankZero : Replica.ReplicaBase
    {
        private long _step;

        public List<SetSyncPeriodsRequest> Sent { get; } = [];

        public override Task<StatusReply> GetStatus(StatusRequest request, ServerCallContext context)
        {
            long step = Interlocked.Add(ref _step, 4);
            var reply = new StatusReply { Step = step, Loss = 2.0, SyncSeconds = 0.09 * step, ComputeSeconds = 0.01 * step };
            reply.SyncPeriods.Add(new Dictionary<string, int> { ["params"] = 4, ["m1"] = 12, ["m2"] = 24 });
            return Task.FromResult(reply);
        }

        public override Task<SetSyncPeriodsReply> SetSyncPeriods(SetSyncPeriodsRequest request, ServerCallContext context)
        {
            lock (Sent)
            {
                Sent.Add(request);
            }

            return Task.FromResult(new SetSyncPeriodsReply { Accepted = true });
        }
    }
}
