using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Controllers;
using DesLoc.Operator.Kubernetes;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Tests.Reconciliation;
using DesLoc.Testing.Kubernetes;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Tests.Kubernetes;

/// <summary>
/// <see cref="KubernetesBackend"/> replacing a job's NetworkPolicy against the test API server, with a policy cache that
/// has not seen the write yet (its watch is held back): the replacement stands for the stale copy, so a reconcile in
/// between finds the spec in line and writes nothing, until the cache catches up.
/// </summary>
public sealed class NetworkPolicyReplaceTests
{
    private const string Policies = "/namespaces/ml/networkpolicies/";

    [Fact]
    public async Task Replace_WhileTheCacheIsStale_TheReplacementStandsForIt_AndAReconcileWritesNothing()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        // The job exists (the server's garbage collector would take a policy whose owner does not), with its uid.
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(DesLoc.Operator.Api.Schema.CrdGenerator.LowCommJobDefinition());
        LowCommJob job = Jobs.New();
        job.Metadata.Uid = null;
        job.Metadata.Uid = KubernetesJson.Deserialize<LowCommJob>(KubernetesJson.Serialize(await client.CustomObjects.CreateNamespacedCustomObjectAsync(
            job, LowCommJob.Group, LowCommJob.Version, "ml", LowCommJob.Plural))).Metadata.Uid;
        var operatorPeer = new OperatorPeer("desloc-system", new Dictionary<string, string>());
        var scraper = new MetricsScraperPeer(new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "monitoring" }, new Dictionary<string, string>());
        V1NetworkPolicy created = await client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(DesiredObjects.NetworkPolicy(job, operatorPeer), "ml");

        var source = new ScriptedSource<V1NetworkPolicy> { Items = [created] };
        var policies = new ResourceCache<V1NetworkPolicy>(source);
        using var stop = new CancellationTokenSource();
        Task run = policies.RunAsync(stop.Token);
        await policies.WaitForSyncAsync(stop.Token);
        (_, var watch) = await source.NextWatchAsync();
        using var events = new EventRecorder(client);
        var backend = new KubernetesBackend(client, events, new CreationExpectations(),
            new ResourceCache<V1Service>(new ScriptedSource<V1Service>()), new ResourceCache<V1Secret>(new ScriptedSource<V1Secret>()), policies);
        var controller = new JobController(new PoliciesOnly(backend), operatorPeer: operatorPeer, metricsScraper: scraper);
        JobObservation Observe() => new(job, Jobs.Running(job), true, true, null, Jobs.T0, backend.HasNetworkPolicy(job), backend.NetworkPolicy(job));

        Assert.Equal(created.Metadata.ResourceVersion, backend.NetworkPolicy(job)!.Metadata.ResourceVersion);
        await controller.ReconcileAsync(Observe(), Jobs.Layout, CancellationToken.None);
        Assert.Equal(1, server.CountRequests("PUT", Policies));
        V1NetworkPolicy stored = await client.NetworkingV1.ReadNamespacedNetworkPolicyAsync(created.Metadata.Name, "ml");
        Assert.Equal(2, stored.Spec.Ingress.Count);
        Assert.NotEqual(created.Metadata.ResourceVersion, stored.Metadata.ResourceVersion);

        // The cache still holds the replaced version: the backend answers with what it wrote, and nothing is written again
        // (a PUT on the stale version would only earn a 409).
        Assert.Equal(created.Metadata.ResourceVersion, policies.Get("ml", created.Metadata.Name)!.Metadata.ResourceVersion);
        Assert.Equal(stored.Metadata.ResourceVersion, backend.NetworkPolicy(job)!.Metadata.ResourceVersion);
        await controller.ReconcileAsync(Observe(), Jobs.Layout, CancellationToken.None);
        Assert.Equal(1, server.CountRequests("PUT", Policies));

        // Once the cache has seen the write, it is the cache's copy again.
        await watch.WriteAsync((WatchEventType.Modified, stored));
        await DesLoc.Testing.Eventually.TrueAsync(() => policies.Get("ml", created.Metadata.Name)!.Metadata.ResourceVersion == stored.Metadata.ResourceVersion, "the cache sees the write", 10);
        Assert.Same(policies.Get("ml", created.Metadata.Name), backend.NetworkPolicy(job));
        await controller.ReconcileAsync(Observe(), Jobs.Layout, CancellationToken.None);
        Assert.Equal(1, server.CountRequests("PUT", Policies));

        await stop.CancelAsync();
        await run;
    }

    /// <summary>The NetworkPolicy calls go to the API server; the rest (the job's status, its events) nowhere: no CRD is installed.</summary>
    private sealed class PoliciesOnly(KubernetesBackend inner) : IJobBackend
    {
        public Task CreateNetworkPolicyAsync(V1NetworkPolicy policy, CancellationToken cancellation) => inner.CreateNetworkPolicyAsync(policy, cancellation);

        public Task ReplaceNetworkPolicyAsync(V1NetworkPolicy current, V1NetworkPolicySpec spec, CancellationToken cancellation) =>
            inner.ReplaceNetworkPolicyAsync(current, spec, cancellation);

        public Task CreateServiceAsync(V1Service service, CancellationToken cancellation) => throw new InvalidOperationException("the Service exists");

        public Task CreateSecretAsync(V1Secret secret, CancellationToken cancellation) => throw new InvalidOperationException("the Secret exists");

        public Task CreatePodAsync(V1Pod pod, CancellationToken cancellation) => throw new InvalidOperationException("every pod runs");

        public Task DeletePodAsync(string ns, string name, CancellationToken cancellation) => throw new InvalidOperationException("every pod runs");

        public Task UpdateStatusAsync(LowCommJob job, LowCommJobStatus status, CancellationToken cancellation) => Task.CompletedTask;

        public Task RecordEventAsync(LowCommJob job, JobEvent jobEvent, CancellationToken cancellation) => Task.CompletedTask;

        public Task DeleteJobAsync(LowCommJob job, CancellationToken cancellation) => throw new InvalidOperationException("the job runs");
    }
}
