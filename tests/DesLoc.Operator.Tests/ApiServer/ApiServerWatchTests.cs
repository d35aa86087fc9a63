using System.Diagnostics;
using DesLoc.Testing.Kubernetes;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Tests.ApiServer;

/// <summary>Watches through the real KubernetesClient: replay, bookmarks, 410 Gone, dropped streams and timeouts.</summary>
public sealed class ApiServerWatchTests
{
    private const string Ns = "team-a";
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Watch_FromAResourceVersion_ReplaysWhatCameAfter_ThenStreamsLive()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await client.CoreV1.CreateNamespacedPodAsync(Pod("a"), Ns);
        string from = (await client.CoreV1.ListNamespacedPodAsync(Ns)).ResourceVersion();
        await client.CoreV1.CreateNamespacedPodAsync(Pod("b"), Ns);
        server.SetPodPhase(Ns, "a", "Running");
        await client.CoreV1.DeleteNamespacedPodAsync("b", Ns);
        await client.CoreV1.CreateNamespacedPodAsync(Pod("elsewhere"), "other");

        using var cts = new CancellationTokenSource(s_wait);
        await using IAsyncEnumerator<(WatchEventType Type, V1Pod Pod)> events =
            client.CoreV1.WatchListNamespacedPodAsync(Ns, resourceVersion: from, cancellationToken: cts.Token).GetAsyncEnumerator(cts.Token);

        Assert.Equal((WatchEventType.Added, "b"), await Next(events));
        Assert.Equal((WatchEventType.Modified, "a"), await Next(events));
        Assert.Equal("Running", events.Current.Pod.Status.Phase);
        Assert.Equal((WatchEventType.Deleted, "b"), await Next(events));
        await client.CoreV1.CreateNamespacedPodAsync(Pod("c"), Ns);
        Assert.Equal((WatchEventType.Added, "c"), await Next(events));
    }

    [Fact]
    public async Task Watch_WithoutResourceVersion_ListsCurrentObjectsAsAdded_AndFollowsSelectors()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await client.CoreV1.CreateNamespacedPodAsync(Pod("a", "x"), Ns);
        await client.CoreV1.CreateNamespacedPodAsync(Pod("b", "y"), Ns);

        using var cts = new CancellationTokenSource(s_wait);
        await using IAsyncEnumerator<(WatchEventType Type, V1Pod Pod)> events =
            client.CoreV1.WatchListNamespacedPodAsync(Ns, labelSelector: "app=x", cancellationToken: cts.Token).GetAsyncEnumerator(cts.Token);

        Assert.Equal((WatchEventType.Added, "a"), await Next(events));
        await client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"metadata":{"labels":{"app":"x"}}}""", V1Patch.PatchType.MergePatch), "b", Ns);
        Assert.Equal((WatchEventType.Added, "b"), await Next(events));
        await client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"metadata":{"labels":{"app":"z"}}}""", V1Patch.PatchType.MergePatch), "a", Ns);
        Assert.Equal((WatchEventType.Deleted, "a"), await Next(events));
    }

    [Fact]
    public async Task Watch_WithBookmarks_GetsBookmarksCarryingTheLatestResourceVersion()
    {
        await using TestApiServer server = await TestApiServer.StartAsync(new TestApiServerOptions { BookmarkInterval = TimeSpan.FromMilliseconds(100) });
        using IKubernetes client = server.CreateClient();
        V1Pod pod = await client.CoreV1.CreateNamespacedPodAsync(Pod("a"), Ns);

        using var cts = new CancellationTokenSource(s_wait);
        await using IAsyncEnumerator<(WatchEventType Type, V1Pod Pod)> events = client.CoreV1
            .WatchListNamespacedPodAsync(Ns, allowWatchBookmarks: true, resourceVersion: pod.ResourceVersion(), cancellationToken: cts.Token)
            .GetAsyncEnumerator(cts.Token);

        Assert.Equal(WatchEventType.Bookmark, (await Next(events)).Type);
        Assert.Equal(pod.ResourceVersion(), events.Current.Pod.ResourceVersion());
        Assert.Null(events.Current.Pod.Name());
        V1ConfigMap unrelated = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "m" } }, Ns);
        while ((await Next(events)).Type == WatchEventType.Bookmark && events.Current.Pod.ResourceVersion() != unrelated.ResourceVersion())
        {
        }

        Assert.Equal(WatchEventType.Bookmark, events.Current.Type);
    }

    /// <summary>
    /// How the real client surfaces 410: the apiserver answers 200 and sends one ERROR event whose object is a
    /// Status (code 410, reason Expired). KubernetesClient's watch enumerator does not yield it: it calls the
    /// <c>onError</c> callback with a <see cref="KubernetesException"/> carrying that Status, and the stream then ends.
    /// Without an onError callback the 410 is silently swallowed, so an informer must pass one and re-list on 410.
    /// </summary>
    [Fact]
    public async Task Watch_FromACompactedResourceVersion_ReportsA410ThroughOnError()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        string from = (await client.CoreV1.CreateNamespacedPodAsync(Pod("a"), Ns)).ResourceVersion();
        await client.CoreV1.CreateNamespacedPodAsync(Pod("b"), Ns);
        server.CompactHistory();

        var errors = new List<Exception>();
        var seen = new List<(WatchEventType, V1Pod)>();
        using var cts = new CancellationTokenSource(s_wait);
        await foreach ((WatchEventType, V1Pod) e in client.CoreV1.WatchListNamespacedPodAsync(Ns, resourceVersion: from, onError: errors.Add, cancellationToken: cts.Token))
        {
            seen.Add(e);
        }

        Assert.Empty(seen);
        KubernetesException gone = Assert.IsType<KubernetesException>(Assert.Single(errors));
        Assert.Equal(410, gone.Status.Code);
        Assert.Equal("Expired", gone.Status.Reason);
        Assert.False(cts.IsCancellationRequested);
    }

    [Fact]
    public async Task Watch_CustomObjectsFromTooOldVersion_WithSmallHistory_Gets410_AndANewWatchFromNowWorks()
    {
        await using TestApiServer server = await TestApiServer.StartAsync(new TestApiServerOptions { WatchHistory = 2 });
        using IKubernetes client = server.CreateClient();
        await Widgets.InstallAsync(client);
        string from = Widgets.Node(await client.CustomObjects.CreateNamespacedCustomObjectAsync(
            Widgets.New("w0", 1), Widgets.Group, Widgets.Version, Ns, Widgets.Plural))["metadata"]!["resourceVersion"]!.GetValue<string>();
        for (int i = 1; i <= 3; i++)
        {
            await client.CustomObjects.CreateNamespacedCustomObjectAsync(Widgets.New($"w{i}", 1), Widgets.Group, Widgets.Version, Ns, Widgets.Plural);
        }

        var errors = new List<Exception>();
        using var cts = new CancellationTokenSource(s_wait);
        int events = 0;
        await foreach ((WatchEventType, object) _ in client.CustomObjects.WatchListNamespacedCustomObjectAsync(
            Widgets.Group, Widgets.Version, Ns, Widgets.Plural, resourceVersion: from, onError: errors.Add, cancellationToken: cts.Token))
        {
            events++;
        }

        Assert.Equal(0, events);
        Assert.Equal(410, Assert.IsType<KubernetesException>(Assert.Single(errors)).Status.Code);

        string now = Widgets.Node(await client.CustomObjects.ListNamespacedCustomObjectAsync(Widgets.Group, Widgets.Version, Ns, Widgets.Plural))["metadata"]!["resourceVersion"]!.GetValue<string>();
        await using IAsyncEnumerator<(WatchEventType Type, object Object)> live = client.CustomObjects.WatchListNamespacedCustomObjectAsync(
            Widgets.Group, Widgets.Version, Ns, Widgets.Plural, resourceVersion: now, onError: errors.Add, cancellationToken: cts.Token).GetAsyncEnumerator(cts.Token);
        await client.CustomObjects.DeleteNamespacedCustomObjectAsync(Widgets.Group, Widgets.Version, Ns, Widgets.Plural, "w0");
        Assert.True(await live.MoveNextAsync().AsTask().WaitAsync(s_wait));
        Assert.Equal(WatchEventType.Deleted, live.Current.Type);
        Assert.Equal("w0", Widgets.Node(live.Current.Object)["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task DropWatches_EndsOpenStreams()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await client.CoreV1.CreateNamespacedPodAsync(Pod("a"), Ns);
        using var cts = new CancellationTokenSource(s_wait);
        await using IAsyncEnumerator<(WatchEventType Type, V1Pod Pod)> events =
            client.CoreV1.WatchListNamespacedPodAsync(Ns, cancellationToken: cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.Equal((WatchEventType.Added, "a"), await Next(events));

        server.DropWatches();

        // An aborted connection: the client's read fails (or, depending on timing, simply ends); either way no more events.
        try
        {
            Assert.False(await events.MoveNextAsync().AsTask().WaitAsync(s_wait));
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
        }

        Assert.False(cts.IsCancellationRequested);
        Assert.Equal(1, server.CountRequests("GET", "watch=true"));
    }

    [Fact]
    public async Task Watch_TimeoutSeconds_EndsTheStreamCleanly()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await client.CoreV1.CreateNamespacedPodAsync(Pod("a"), Ns);
        var errors = new List<Exception>();
        var seen = new List<WatchEventType>();
        var clock = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(s_wait);

        await foreach ((WatchEventType Type, V1Pod _) e in client.CoreV1.WatchListNamespacedPodAsync(Ns, timeoutSeconds: 1, onError: errors.Add, cancellationToken: cts.Token))
        {
            seen.Add(e.Type);
        }

        Assert.Empty(errors);
        Assert.Equal([WatchEventType.Added], seen);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// A client quirk, not a server one: KubernetesClient 21 peeks the first line of a watch before returning the
    /// response, so a watch that ends (here by timeoutSeconds) before any event throws HttpRequestException
    /// (EndOfStream) instead of ending quietly, as it would against kube-apiserver. Operators should ask for bookmarks.
    /// </summary>
    [Fact]
    public async Task Watch_EndingBeforeAnyEvent_SurfacesInTheClientAsHttpRequestException()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        using var cts = new CancellationTokenSource(s_wait);

        await Assert.ThrowsAsync<HttpRequestException>(async () =>
        {
            await foreach ((WatchEventType, V1Pod) _ in client.CoreV1.WatchListNamespacedPodAsync(Ns, timeoutSeconds: 1, cancellationToken: cts.Token))
            {
            }
        });
        Assert.False(cts.IsCancellationRequested);
    }

    private static async Task<(WatchEventType Type, string Name)> Next(IAsyncEnumerator<(WatchEventType Type, V1Pod Pod)> events)
    {
        Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(s_wait), "the watch ended");
        return (events.Current.Type, events.Current.Pod.Name());
    }

    private static V1Pod Pod(string name, string app = "x") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = app } },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "desloc/trainer:dev" }] },
    };
}
