using DesLoc.Operator.Local;
using DesLoc.Operator.Reconciliation;

namespace DesLoc.Operator.Tests.TwoTier;

/// <summary>`run` with several workers per replica: every worker process gets ports of its own, and lives where its replica does.</summary>
public sealed class TwoTierLocalLayoutTests
{
    [Fact]
    public void LocalLayout_GivesEachOfRTimesWWorkersDistinctPorts_AndAReplicasWorkersItsHost()
    {
        var network = new ReplicaNetwork(replica => $"10.0.{replica}.1", "0.0.0.0", replica => ["ip", "netns", "exec", $"desloc-r{replica}"]);
        ReplicaLayout layout = LocalLayout.Create(replicas: 2, Path.GetTempPath(), network, workersPerReplica: 2);

        int[] ports = [.. Enumerable.Range(0, 4).SelectMany(rank => new[] { layout.GrpcPort(rank), layout.GrpcPort(rank) + 1, layout.MetricsPort(rank) })];
        Assert.Equal(12, ports.Distinct().Count());
        Assert.Equal(["10.0.0.1", "10.0.0.1", "10.0.1.1", "10.0.1.1"], Enumerable.Range(0, 4).Select(layout.Host));
        Assert.Equal(string.Join(',', Enumerable.Range(0, 4).Select(rank => $"{layout.Host(rank)}:{layout.GrpcPort(rank)}")), layout.Peers(4));
    }
}
