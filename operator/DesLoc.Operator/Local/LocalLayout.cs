using DesLoc.Operator.Reconciliation;

namespace DesLoc.Operator.Local;

/// <summary>Replicas as processes on loopback: each gets a free gRPC port (whose successor, the data port, is free too) and a metrics port.</summary>
public static class LocalLayout
{
    public static ReplicaLayout Create(int replicas, string runDirectory, ReplicaNetwork? network = null)
    {
        int[] grpc = [.. Enumerable.Range(0, replicas).Select(_ => LoopbackPorts.FreePair())];
        int[] metrics = [.. Enumerable.Range(0, replicas).Select(_ => LoopbackPorts.Free())];
        return new ReplicaLayout(
            network?.Host ?? (_ => "127.0.0.1"),
            index => grpc[index],
            index => metrics[index],
            network?.BindAddress ?? "127.0.0.1",
            Path.Combine(runDirectory, "config.json"),
            Path.Combine(runDirectory, "checkpoints"));
    }
}
