using System.Net;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Controllers;
using DesLoc.Operator.Local;
using DesLoc.Operator.Reconciliation;
using DesLoc.Testing;
using DesLoc.Transport.Protocol;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace DesLoc.Trainer.Tests.Distributed;

/// <summary>The operator's trainer monitor against a scripted rank 0 served over real gRPC.</summary>
public sealed class TrainerMonitorTests
{
    [Fact]
    public async Task ASentPeriodChange_IsCarriedUntilAReconcileRecordsIt_SoAStatusWriteRefusedAsStaleCannotLoseIt()
    {
        var rankZero = new CostlySyncRankZero();
        await using WebApplication server = await ServeAsync(rankZero);
        string address = server.Urls.Single();
        LowCommJob job = AdaptiveJob("adaptive");
        string key = JobNames.Key(job);
        using var monitor = new TrainerMonitor(NullLogger.Instance);

        for (int poll = 0; poll < 20 && rankZero.Sent.Count == 0; poll++)
        {
            Assert.True(await monitor.PollAsync(job, address, "token", default));
        }

        SetSyncPeriodsRequest request = Assert.Single(rankZero.Sent);
        Assert.Equal(8, request.Periods["params"]);   // 90% of the time syncing against a 1% target: 2x, the most per change
        PeriodChange sent = monitor.Latest(key)!.SentChange!;
        Assert.Equal(request.SwitchStep, sent.SwitchStep);

        // A reconcile whose status write failed (409 on a stale copy) never reports back: the change is still carried.
        Assert.Same(sent, monitor.Latest(key)!.SentChange);
        monitor.Recorded(key, monitor.Latest(key));
        Assert.Null(monitor.Latest(key)!.SentChange);
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
