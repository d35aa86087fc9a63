using System.Collections.Concurrent;
using DesLoc.Operator.Kubernetes;
using DesLoc.Testing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace DesLoc.Operator.Tests.Kubernetes;

public sealed class ResourceCacheTests : IAsyncLifetime, IDisposable
{
    private readonly ScriptedSource<V1Pod> _source = new();
    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentQueue<ResourceChange<V1Pod>> _changes = new();
    private readonly CancellationTokenSource _stop = new();
    private ResourceCache<V1Pod> _cache = null!;
    private Task _run = Task.CompletedTask;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public void Dispose() => _stop.Dispose();

    [Fact]
    public async Task The_first_list_fills_the_cache_delivers_adds_and_the_watch_starts_from_its_version()
    {
        _source.Items = [Pod("a", "5"), Pod("b", "6")];
        _source.ListVersion = "7";
        Start();

        var (from, _) = await _source.NextWatchAsync();
        await _cache.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("7", from);
        Assert.True(_cache.HasSynced);
        Assert.Equal(["a", "b"], _cache.List().Select(p => p.Name()).Order());
        Assert.Equal("6", _cache.Get("ns", "b")?.ResourceVersion());
        Assert.Null(_cache.Get("other", "b"));
        Assert.Empty(_cache.List("other"));
        Assert.All(_changes, c => Assert.Null(c.Old));
        Assert.Equal(2, _changes.Count);
    }

    [Fact]
    public async Task Watch_events_are_applied_and_delivered_in_order()
    {
        Start();
        var (_, stream) = await _source.NextWatchAsync();

        await stream.WriteAsync((WatchEventType.Added, Pod("a", "2")));
        await stream.WriteAsync((WatchEventType.Modified, Pod("a", "3")));
        await stream.WriteAsync((WatchEventType.Added, Pod("b", "4")));
        await stream.WriteAsync((WatchEventType.Deleted, Pod("b", "5")));
        await Eventually.TrueAsync(() => _cache.ResourceVersion == "5", "the delete is applied");

        Assert.Equal(["a"], _cache.List().Select(p => p.Name()));
        Assert.Equal("3", _cache.Get("ns", "a")?.ResourceVersion());
        Assert.Equal(
            ["+a@2", "a@2>a@3", "+b@4", "-b@5"],
            _changes.Select(Describe));
    }

    [Fact]
    public async Task A_bookmark_advances_the_version_that_the_next_watch_resumes_from_and_delivers_nothing()
    {
        Start();
        var (_, stream) = await _source.NextWatchAsync();

        await stream.WriteAsync((WatchEventType.Bookmark, new V1Pod { Metadata = new V1ObjectMeta { ResourceVersion = "42" } }));
        stream.Complete();
        var (from, _) = await _source.NextWatchAsync();

        Assert.Equal("42", from);
        Assert.Empty(_changes);
        Assert.Empty(_cache.List());
    }

    [Fact]
    public async Task A_stream_that_ends_is_watched_again_from_the_last_version_without_a_new_list()
    {
        _source.ListVersion = "10";
        Start();
        var (first, stream) = await _source.NextWatchAsync();
        await stream.WriteAsync((WatchEventType.Added, Pod("a", "11")));
        stream.Complete();

        var (second, _) = await _source.NextWatchAsync();

        Assert.Equal("10", first);
        Assert.Equal("11", second);
        Assert.Equal(1, _source.Lists);
        Assert.NotNull(_cache.Get("ns", "a"));
    }

    public static TheoryData<string> GoneShapes => ["our exception", "client exception", "error event"];

    [Theory]
    [MemberData(nameof(GoneShapes))]
    public async Task A_410_lists_again_and_delivers_the_differences_including_deletes_of_vanished_objects(string shape)
    {
        _source.Items = [Pod("kept", "1"), Pod("changed", "2"), Pod("vanished", "3")];
        _source.ListVersion = "3";
        Start();
        var (_, stream) = await _source.NextWatchAsync();
        _changes.Clear();

        _source.Items = [Pod("kept", "1"), Pod("changed", "8"), Pod("new", "9")];
        _source.ListVersion = "9";
        switch (shape)
        {
            case "our exception":
                stream.Complete(new ResourceGoneException());
                break;
            case "client exception":
                stream.Complete(new KubernetesException(new V1Status { Code = 410, Reason = "Expired" }));
                break;
            default:
                await stream.WriteAsync((WatchEventType.Error, new V1Pod()));
                break;
        }

        var (from, _) = await _source.NextWatchAsync();

        Assert.Equal("9", from);
        Assert.Equal(2, _source.Lists);
        Assert.Equal(["changed", "kept", "new"], _cache.List().Select(p => p.Name()).Order());
        Assert.Equal(["+new@9", "-vanished@3", "changed@2>changed@8"], _changes.Select(Describe).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_resync_delivers_every_cached_object_again_as_an_update_of_itself()
    {
        _source.Items = [Pod("a", "1"), Pod("b", "2")];
        Start(resync: TimeSpan.FromMinutes(1));
        await _source.NextWatchAsync();
        _changes.Clear();

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(_changes);
        _time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => _changes.Count == 2, "the first resync is delivered");
        Assert.All(_changes, c => Assert.Same(c.Old, c.New));

        await Eventually.TrueAsync(
            () =>
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                return _changes.Count == 4;
            },
            "the second resync is delivered");
    }

    [Fact]
    public async Task A_failed_list_is_retried_after_a_growing_delay()
    {
        _source.FailNextLists.Enqueue(new HttpRequestException("refused"));
        _source.FailNextLists.Enqueue(new HttpRequestException("refused"));
        _source.Items = [Pod("a", "1")];
        Start();

        // Lists complete synchronously, so each retry's delay is armed before the clock moves.
        Assert.Equal(1, _source.Lists);
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(1, _source.Lists);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => _source.Lists == 2, "the first retry");
        await Task.Delay(20);
        _time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.Equal(2, _source.Lists);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await _source.NextWatchAsync();

        Assert.Equal(3, _source.Lists);
        Assert.True(_cache.HasSynced);
    }

    [Fact]
    public async Task The_owner_index_follows_the_controller_reference_through_updates_and_deletes()
    {
        _source.Items = [Pod("a", "1", owner: "job-1"), Pod("b", "2", owner: "job-1"), Pod("c", "3", owner: "job-2")];
        Start();
        var (_, stream) = await _source.NextWatchAsync();

        Assert.Equal(["a", "b"], _cache.ByOwner("job-1").Select(p => p.Name()).Order());

        await stream.WriteAsync((WatchEventType.Modified, Pod("b", "4", owner: "job-2")));
        await stream.WriteAsync((WatchEventType.Deleted, Pod("a", "5", owner: "job-1")));
        await Eventually.TrueAsync(() => _cache.ResourceVersion == "5", "both events are applied");

        Assert.Empty(_cache.ByOwner("job-1"));
        Assert.Equal(["b", "c"], _cache.ByOwner("job-2").Select(p => p.Name()).Order());
        Assert.Empty(_cache.ByOwner("none"));
    }

    [Fact]
    public async Task A_non_controller_owner_is_not_indexed()
    {
        var pod = Pod("a", "1");
        pod.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Job", Name = "j", Uid = "job-1", Controller = false }];
        _source.Items = [pod];
        Start();
        await _source.NextWatchAsync();

        Assert.Empty(_cache.ByOwner("job-1"));
    }

    [Fact]
    public async Task A_throwing_handler_does_not_stop_the_cache()
    {
        Start();
        _cache.Changed += _ => throw new InvalidOperationException("handler bug");
        var (_, stream) = await _source.NextWatchAsync();
        await stream.WriteAsync((WatchEventType.Added, Pod("a", "2")));
        await stream.WriteAsync((WatchEventType.Added, Pod("b", "3")));

        await Eventually.TrueAsync(() => _cache.List().Count == 2, "both adds are applied");
        Assert.Equal(2, _changes.Count);
    }

    private void Start(TimeSpan? resync = null)
    {
        // The jitter at its top: each retry waits the full exponential step, so the delays below are exact.
        _cache = new ResourceCache<V1Pod>(_source, time: _time, resyncPeriod: resync, random: () => 1);
        _cache.Changed += _changes.Enqueue;
        _run = _cache.RunAsync(_stop.Token);
    }

    private static string Describe(ResourceChange<V1Pod> change) => change switch
    {
        { Old: null, New: { } n } => $"+{n.Name()}@{n.ResourceVersion()}",
        { Old: { } o, New: null } => $"-{o.Name()}@{o.ResourceVersion()}",
        { Old: { } o, New: { } n } => $"{o.Name()}@{o.ResourceVersion()}>{n.Name()}@{n.ResourceVersion()}",
        _ => "?",
    };

    private static V1Pod Pod(string name, string version, string? owner = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = "ns",
            ResourceVersion = version,
            OwnerReferences = owner is null ? null : [new V1OwnerReference { ApiVersion = "desloc.dev/v1", Kind = "LowCommJob", Name = owner, Uid = owner, Controller = true }],
        },
    };
}
