using DesLoc.Operator.Kubernetes;
using DesLoc.Testing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace DesLoc.Operator.Tests.Kubernetes;

/// <summary>
/// Leader election and the list/watch caches against an API server that is down (a refused or reset connection, an
/// <see cref="HttpRequestException"/> rather than an HTTP error): they back off on the fake clock instead of spinning,
/// and an outage is one warning without a stack trace.
/// </summary>
public sealed class ConnectionFailureTests
{
    /// <summary>Real time that a spinning retry loop would fill with hundreds of attempts.</summary>
    private static readonly TimeSpan s_window = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData("refused")]
    [InlineData("reset")]
    public async Task Leader_election_backs_off_exponentially_and_warns_once_per_outage(string failure)
    {
        using DeadServer server = DeadServer.Of(failure);
        using IKubernetes client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = server.Url });
        var time = new FakeTimeProvider();
        var log = new CapturingLogger();
        var election = new LeaderElection(client, "ns", "desloc-operator", "a", log,
            TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2), time, TimeSpan.FromSeconds(30), random: () => 1);
        using var stop = new CancellationTokenSource();
        Task run = election.RunAsync(ct => Task.Delay(Timeout.Infinite, ct), stop.Token);

        int Failures() => log.Entries.Count(e => e.Message.Contains("Leader election on lease ns/desloc-operator failed", StringComparison.Ordinal));
        await Eventually.TrueAsync(() => Failures() == 1, "the first attempt fails");
        await Task.Delay(s_window);
        Assert.Equal(1, Failures());                       // the clock has not moved: no retry however much real time passes
        Assert.InRange(server.Accepted, 0, 1);

        time.Advance(TimeSpan.FromSeconds(2));             // the first backoff: the retry period
        await Eventually.TrueAsync(() => Failures() == 2, "the first retry");
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        time.Advance(TimeSpan.FromSeconds(3));
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(2, Failures());                       // the second backoff has doubled to 4 s
        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => Failures() == 3, "the second retry");
        if (failure == "reset")
        {
            Assert.InRange(server.Accepted, 3, 4);         // one request per attempt reached the listener
        }

        var loud = log.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        var warning = Assert.Single(loud);
        Assert.Contains("failed", warning.Message, StringComparison.Ordinal);
        Assert.All(log.Entries, e => Assert.Null(e.Exception));   // no stack traces
        Assert.False(election.IsLeader);

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("refused")]
    [InlineData("reset")]
    public async Task A_cache_backs_off_and_warns_once_per_outage(string failure)
    {
        using DeadServer server = DeadServer.Of(failure);
        using IKubernetes client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = server.Url });
        var time = new FakeTimeProvider();
        var log = new CapturingLogger();
        var cache = new ResourceCache<V1Pod>(KubernetesSources.Pods(client, "ns", null), log, time, random: () => 1);
        using var stop = new CancellationTokenSource();
        Task run = cache.RunAsync(stop.Token);

        int Failures() => log.Entries.Count(e => e.Message.Contains("List or watch of V1Pod failed", StringComparison.Ordinal));
        await Eventually.TrueAsync(() => Failures() == 1, "the first list fails");
        await Task.Delay(s_window);
        Assert.Equal(1, Failures());

        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => Failures() == 2, "the first retry");
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        time.Advance(TimeSpan.FromSeconds(2));
        await Eventually.TrueAsync(() => Failures() == 3, "the second retry, after twice the delay");

        Assert.Single(log.Entries, e => e.Level >= LogLevel.Warning);
        Assert.All(log.Entries, e => Assert.Null(e.Exception));
        Assert.False(cache.HasSynced);

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void The_backoff_doubles_up_to_its_cap_with_jitter_in_its_upper_half_and_a_success_resets_it()
    {
        TimeSpan first = TimeSpan.FromSeconds(2), cap = TimeSpan.FromSeconds(30);
        Assert.Equal(
            [2, 4, 8, 16, 30, 30],
            Enumerable.Range(1, 6).Select(n => RetryStreak.Delay(n, first, cap, 1).TotalSeconds));
        Assert.Equal(TimeSpan.FromSeconds(1), RetryStreak.Delay(1, first, cap, 0));
        Assert.Equal(TimeSpan.FromSeconds(15), RetryStreak.Delay(40, first, cap, 0));
        Assert.Equal(TimeSpan.FromSeconds(6), RetryStreak.Delay(3, first, cap, 0.5));

        var draws = new Queue<double>([1, 1, 1, 1]);
        var streak = new RetryStreak(first, cap, draws.Dequeue);
        Assert.Equal((1, TimeSpan.FromSeconds(2)), streak.Failed());
        Assert.Equal((2, TimeSpan.FromSeconds(4)), streak.Failed());
        Assert.Equal(2, streak.Succeeded());
        Assert.Equal(0, streak.Succeeded());
        Assert.Equal((1, TimeSpan.FromSeconds(2)), streak.Failed());
    }
}
