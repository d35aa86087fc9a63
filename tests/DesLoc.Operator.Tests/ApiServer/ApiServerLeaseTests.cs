using DesLoc.Testing.Kubernetes;
using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using k8s.Models;

namespace DesLoc.Operator.Tests.ApiServer;

/// <summary>The client's own leader election (LeaseLock on coordination.k8s.io/v1) against the test API server.</summary>
public sealed class ApiServerLeaseTests
{
    private const string Ns = "desloc-system";

    [Fact]
    public async Task LeaderElector_AcquiresAndRenewsTheLease_AndASecondCandidateWaits()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using LeaderElector first = Elector(client, "first");
        using LeaderElector second = Elector(client, "second");
        var firstLeads = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool secondLed = false;
        first.OnStartedLeading += () => firstLeads.TrySetResult();
        second.OnStartedLeading += () => secondLed = true;

        Task firstRun = first.RunUntilLeadershipLostAsync(cts.Token);
        await firstLeads.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Task secondRun = second.RunUntilLeadershipLostAsync(cts.Token);
        V1Lease held = await client.CoordinationV1.ReadNamespacedLeaseAsync("desloc-operator", Ns);
        await Task.Delay(TimeSpan.FromSeconds(2));
        V1Lease renewed = await client.CoordinationV1.ReadNamespacedLeaseAsync("desloc-operator", Ns);

        Assert.Equal("first", held.Spec.HolderIdentity);
        Assert.Equal("first", renewed.Spec.HolderIdentity);
        Assert.True(long.Parse(renewed.ResourceVersion()) > long.Parse(held.ResourceVersion()), "the leader renews its lease");
        Assert.False(secondLed);
        Assert.True(first.IsLeader());
        Assert.True(server.CountRequests("PUT", "/leases/desloc-operator") >= 2);
        await cts.CancelAsync();
        try
        {
            await Task.WhenAll(firstRun, secondRun);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static LeaderElector Elector(IKubernetes client, string identity) =>
        new(new LeaderElectionConfig(new LeaseLock(client, Ns, "desloc-operator", identity))
        {
            LeaseDuration = TimeSpan.FromSeconds(3),
            RenewDeadline = TimeSpan.FromSeconds(2),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
        });
}
