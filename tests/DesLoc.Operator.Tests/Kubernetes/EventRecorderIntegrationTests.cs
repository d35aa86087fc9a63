using System.Text.Json.Nodes;
using DesLoc.Operator.Kubernetes;
using DesLoc.Testing.Kubernetes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace DesLoc.Operator.Tests.Kubernetes;

/// <summary><see cref="EventRecorder"/> writing core/v1 Events to the test API server.</summary>
public sealed class EventRecorderIntegrationTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));
    private TestApiServer _server = null!;
    private IKubernetes _client = null!;
    private V1Pod _pod = null!;

    public async Task InitializeAsync()
    {
        _server = await TestApiServer.StartAsync();
        _client = _server.CreateClient();
        _pod = await _client.CoreV1.CreateNamespacedPodAsync(
            new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = "job-g0-0" },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "busybox" }] },
            },
            "ns");
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task An_event_names_the_object_and_the_component()
    {
        using var recorder = new EventRecorder(_client, instance: "desloc-operator-0", time: _time);
        // As list items arrive: no kind or apiVersion on the object itself.
        var listed = new V1Pod { Metadata = _pod.Metadata };

        await recorder.WarningAsync(listed, "GroupRestarted", "group 0 restarted after exit code 137");

        var written = Assert.Single(Events());
        Assert.Equal("Warning", (string?)written["type"]);
        Assert.Equal("GroupRestarted", (string?)written["reason"]);
        Assert.Equal("group 0 restarted after exit code 137", (string?)written["message"]);
        Assert.Equal(1, (int?)written["count"]);
        Assert.Equal("2026-03-04T05:06:07Z", (string?)written["firstTimestamp"]);
        Assert.Equal("2026-03-04T05:06:07Z", (string?)written["lastTimestamp"]);
        Assert.Equal("desloc-operator", (string?)written["source"]?["component"]);
        Assert.Equal("desloc-operator", (string?)written["reportingComponent"]);
        Assert.Equal("desloc-operator-0", (string?)written["reportingInstance"]);
        var involved = written["involvedObject"]!;
        Assert.Equal("Pod", (string?)involved["kind"]);
        Assert.Equal("v1", (string?)involved["apiVersion"]);
        Assert.Equal("job-g0-0", (string?)involved["name"]);
        Assert.Equal("ns", (string?)involved["namespace"]);
        Assert.Equal(_pod.Uid(), (string?)involved["uid"]);
    }

    [Fact]
    public async Task Repeats_within_the_window_are_counted_on_one_event_and_a_new_message_is_a_new_event()
    {
        using var recorder = new EventRecorder(_client, time: _time);

        await recorder.NormalAsync(_pod, "Healed", "group 1 healed from group 0");
        _time.Advance(TimeSpan.FromMinutes(3));
        await recorder.NormalAsync(_pod, "Healed", "group 1 healed from group 0");
        _time.Advance(TimeSpan.FromMinutes(3));
        await recorder.NormalAsync(_pod, "Healed", "group 1 healed from group 0");
        await recorder.NormalAsync(_pod, "Healed", "group 2 healed from group 0");

        var events = Events();
        Assert.Equal(2, events.Count);
        var repeated = Assert.Single(events, e => (string?)e["message"] == "group 1 healed from group 0");
        Assert.Equal(3, (int?)repeated["count"]);
        Assert.Equal("2026-03-04T05:06:07Z", (string?)repeated["firstTimestamp"]);
        Assert.Equal("2026-03-04T05:12:07Z", (string?)repeated["lastTimestamp"]);
    }

    [Fact]
    public async Task A_repeat_after_the_window_is_a_new_event()
    {
        using var recorder = new EventRecorder(_client, time: _time, window: TimeSpan.FromMinutes(10));

        await recorder.NormalAsync(_pod, "Healed", "same");
        _time.Advance(TimeSpan.FromMinutes(11));
        await recorder.NormalAsync(_pod, "Healed", "same");

        Assert.Equal([1, 1], Events().Select(e => (int?)e["count"]));
    }

    [Fact]
    public async Task A_failed_write_is_dropped_without_throwing_and_an_expired_event_starts_a_new_series()
    {
        using var recorder = new EventRecorder(_client, time: _time);
        _server.FailNext("POST", "/events", 500);

        await recorder.NormalAsync(_pod, "Created", "lost");
        Assert.Empty(Events());

        await recorder.NormalAsync(_pod, "Created", "kept");
        var first = Assert.Single(Events());
        await _client.CoreV1.DeleteNamespacedEventAsync((string)first["metadata"]!["name"]!, "ns");
        await recorder.NormalAsync(_pod, "Created", "kept");

        var again = Assert.Single(Events());
        Assert.Equal(1, (int?)again["count"]);
    }

    private List<JsonNode> Events() => [.. _server.List("v1", "events", "ns")];
}
