using System.Collections.Concurrent;
using DesLoc.Operator.Kubernetes;
using DesLoc.Testing.Kubernetes;
using DesLoc.Testing;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Tests.Kubernetes;

/// <summary><see cref="KubernetesSources.Pods"/> and <see cref="ResourceCache{T}"/> over the real client and the test API server.</summary>
public sealed class PodCacheIntegrationTests : IAsyncLifetime, IDisposable
{
    private const string Namespace = "ns";
    private readonly ConcurrentQueue<ResourceChange<V1Pod>> _changes = new();
    private readonly CancellationTokenSource _stop = new();
    private TestApiServer _server = null!;
    private IKubernetes _client = null!;
    private ResourceCache<V1Pod> _cache = null!;
    private Task _run = Task.CompletedTask;
    private string _owner = "";

    public async Task InitializeAsync()
    {
        _server = await TestApiServer.StartAsync();
        _client = _server.CreateClient();
        // A real owner: the API server's garbage collector deletes pods whose owners do not exist.
        V1ConfigMap owner = await _client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "job-1" } }, Namespace);
        _owner = owner.Uid();
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(10));
        _client.Dispose();
        await _server.DisposeAsync();
    }

    public void Dispose() => _stop.Dispose();

    [Fact]
    public async Task The_cache_lists_then_follows_creates_updates_and_deletes_of_matching_pods_only()
    {
        await CreatePodAsync("a", _owner);
        await CreatePodAsync("other", owner: null, app: "else");
        Start();
        await _cache.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["a"], Names());

        await CreatePodAsync("b", _owner);
        _server.SetPodPhase(Namespace, "a", "Running");
        await _client.CoreV1.DeleteNamespacedPodAsync("b", Namespace);

        await Eventually.TrueAsync(() => _changes.Any(c => c.New is null && c.Old?.Name() == "b"), "the delete of b is seen");
        await Eventually.TrueAsync(() => _cache.Get(Namespace, "a")?.Status?.Phase == "Running", "a's status is seen");
        Assert.Equal(["a"], Names());
        Assert.Equal(["a"], _cache.ByOwner(_owner).Select(p => p.Name()));
        Assert.DoesNotContain(_changes, c => c.Latest.Name() == "other");
    }

    [Fact]
    public async Task A_dropped_watch_resumes_from_the_last_version_without_a_new_list()
    {
        Start();
        await _cache.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await CreatePodAsync("a", _owner);
        await Eventually.TrueAsync(() => _cache.Get(Namespace, "a") is not null, "a is seen");

        _server.DropWatches();
        await CreatePodAsync("b", _owner);

        await Eventually.TrueAsync(() => _cache.Get(Namespace, "b") is not null, "b is seen after the drop");
        Assert.Equal(1, Lists());
        Assert.Equal(1, _changes.Count(c => c.Old is null && c.New?.Name() == "b"));
    }

    [Fact]
    public async Task A_410_after_missed_events_lists_again_and_delivers_the_delete_of_a_vanished_pod()
    {
        await CreatePodAsync("a", _owner);
        await CreatePodAsync("b", _owner);
        // The retry delay after the dropped connection leaves time to change things behind the cache's back.
        Start(retryBase: TimeSpan.FromSeconds(2));
        await _cache.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => _server.CountRequests("GET", "watch=true") == 1, "the watch is open");

        _server.DropWatches();
        await _client.CoreV1.DeleteNamespacedPodAsync("b", Namespace);
        await CreatePodAsync("c", _owner);
        _server.CompactHistory();

        await Eventually.TrueAsync(() => _cache.Get(Namespace, "c") is not null, "c is seen");
        Assert.Equal(2, Lists());
        Assert.Equal(["a", "c"], Names());
        var deleted = Assert.Single(_changes, c => c.New is null);
        Assert.Equal("b", deleted.Old?.Name());
        Assert.DoesNotContain(_cache.ByOwner(_owner), p => p.Name() == "b");
    }

    [Fact]
    public async Task A_failed_list_is_retried()
    {
        _server.FailNext("GET", "/api/v1/namespaces/ns/pods?labelSelector", 500);
        await CreatePodAsync("a", _owner);
        Start(retryBase: TimeSpan.FromMilliseconds(50));

        await _cache.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["a"], Names());
        Assert.Equal(2, Lists());
    }

    private void Start(TimeSpan? retryBase = null)
    {
        var source = KubernetesSources.Pods(_client, Namespace, "app=desloc", watchTimeoutSeconds: 60);
        _cache = new ResourceCache<V1Pod>(source, retryBase: retryBase ?? TimeSpan.FromMilliseconds(50));
        _cache.Changed += _changes.Enqueue;
        _run = _cache.RunAsync(_stop.Token);
    }

    private List<string> Names() => [.. _cache.List(Namespace).Select(p => p.Name()).Order(StringComparer.Ordinal)];

    /// <summary>Lists of pods made: every GET of the pods collection that is not a watch.</summary>
    private int Lists() =>
        _server.CountRequests("GET", "/api/v1/namespaces/ns/pods?") - _server.CountRequests("GET", "watch=true");

    private Task<V1Pod> CreatePodAsync(string name, string? owner, string app = "desloc") =>
        _client.CoreV1.CreateNamespacedPodAsync(
            new V1Pod
            {
                Metadata = new V1ObjectMeta
                {
                    Name = name,
                    Labels = new Dictionary<string, string> { ["app"] = app },
                    OwnerReferences = owner is null
                        ? null
                        : [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "job-1", Uid = owner, Controller = true }],
                },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "busybox" }] },
            },
            Namespace);
}
