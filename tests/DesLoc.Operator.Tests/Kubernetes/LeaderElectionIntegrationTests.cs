using System.Diagnostics;
using DesLoc.Operator.Kubernetes;
using DesLoc.Testing.Kubernetes;
using DesLoc.Testing;
using k8s;

namespace DesLoc.Operator.Tests.Kubernetes;

/// <summary><see cref="LeaderElection"/> over the client's elector and the test API server.</summary>
public sealed class LeaderElectionIntegrationTests : IAsyncLifetime
{
    private TestApiServer _server = null!;
    private IKubernetes _client = null!;

    public async Task InitializeAsync()
    {
        _server = await TestApiServer.StartAsync();
        _client = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task One_of_two_leads_and_the_other_takes_over_well_within_a_lease_once_the_leader_stops()
    {
        // A 10 s lease: without the release the standby would wait at least that long.
        var a = Election("a", lease: TimeSpan.FromSeconds(10), renew: TimeSpan.FromSeconds(5));
        var b = Election("b", lease: TimeSpan.FromSeconds(10), renew: TimeSpan.FromSeconds(5));
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var aLeading = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bLeading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var runA = a.RunAsync(ct => LeadAsync(aLeading, ct), stopA.Token);
        var token = await aLeading.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var runB = b.RunAsync(
            async ct =>
            {
                bLeading.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            },
            stopB.Token);
        await Eventually.TrueAsync(() => b.Leader == "a", "b observes a as the leader");
        await Task.Delay(500);
        Assert.True(a.IsLeader);
        Assert.False(b.IsLeader);
        Assert.False(bLeading.Task.IsCompleted);

        var stopped = Stopwatch.StartNew();
        await stopA.CancelAsync();
        await runA.WaitAsync(TimeSpan.FromSeconds(10));
        await bLeading.Task.WaitAsync(TimeSpan.FromSeconds(10));
        stopped.Stop();

        Assert.True(token.IsCancellationRequested);
        Assert.False(a.IsLeader);
        Assert.True(b.IsLeader);
        Assert.InRange(stopped.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal("b", (string?)_server.Get("coordination.k8s.io/v1", "leases", "ns", "desloc-operator")?["spec"]?["holderIdentity"]);

        await stopB.CancelAsync();
        await runB.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("", (string?)_server.Get("coordination.k8s.io/v1", "leases", "ns", "desloc-operator")?["spec"]?["holderIdentity"]);
    }

    [Fact]
    public async Task Losing_the_lease_cancels_the_leaders_work()
    {
        var a = Election("a", lease: TimeSpan.FromSeconds(3), renew: TimeSpan.FromSeconds(1));
        var stoppedLeading = 0;
        a.StoppedLeading += () => Interlocked.Increment(ref stoppedLeading);
        using var stop = new CancellationTokenSource();
        var leading = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = a.RunAsync(ct => LeadAsync(leading, ct), stop.Token);
        var token = await leading.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Every renewal is refused from now on, as when the apiserver is unreachable.
        _server.FailNext("PUT", "/leases/desloc-operator", 500, times: 1000);

        await Eventually.TrueAsync(() => token.IsCancellationRequested, "the work's token is cancelled");
        Assert.False(a.IsLeader);
        Assert.Equal(1, Volatile.Read(ref stoppedLeading));

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Work_that_ends_by_itself_ends_the_campaign_and_releases_the_lease()
    {
        var a = Election("a", lease: TimeSpan.FromSeconds(10), renew: TimeSpan.FromSeconds(5));

        await a.RunAsync(_ => Task.CompletedTask, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(a.IsLeader);
        Assert.Equal("", (string?)_server.Get("coordination.k8s.io/v1", "leases", "ns", "desloc-operator")?["spec"]?["holderIdentity"]);
    }

    [Fact]
    public async Task A_failure_of_the_work_is_rethrown_after_the_release()
    {
        var a = Election("a", lease: TimeSpan.FromSeconds(10), renew: TimeSpan.FromSeconds(5));

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(
            () => a.RunAsync(_ => throw new InvalidOperationException("reconciler bug"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal("reconciler bug", thrown.Message);
        Assert.Equal("", (string?)_server.Get("coordination.k8s.io/v1", "leases", "ns", "desloc-operator")?["spec"]?["holderIdentity"]);
    }

    private LeaderElection Election(string identity, TimeSpan lease, TimeSpan renew) =>
        new(_client, "ns", "desloc-operator", identity, leaseDuration: lease, renewDeadline: renew, retryPeriod: TimeSpan.FromMilliseconds(200));

    private static async Task LeadAsync(TaskCompletionSource<CancellationToken> leading, CancellationToken cancellationToken)
    {
        leading.TrySetResult(cancellationToken);
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}
