using DesLoc.Operator.Reconciliation;

namespace DesLoc.Operator.Local;

/// <summary>
/// Workers as processes on loopback: each (by global rank) gets a free gRPC port (whose successor, the data port, is
/// free too) and a metrics port. With a <see cref="ReplicaNetwork"/>, a worker lives where its replica does.
/// </summary>
public static class LocalLayout
{
    public static ReplicaLayout Create(int replicas, string runDirectory, ReplicaNetwork? network = null, int workersPerReplica = 1)
    {
        int workers = replicas * workersPerReplica;
        int[] grpc = [.. Enumerable.Range(0, workers).Select(_ => LoopbackPorts.FreePair())];
        int[] metrics = [.. Enumerable.Range(0, workers).Select(_ => LoopbackPorts.Free())];
        return new ReplicaLayout(
            network is { } placed ? rank => placed.Host(rank / workersPerReplica) : _ => "127.0.0.1",
            rank => grpc[rank],
            rank => metrics[rank],
            network?.BindAddress ?? "127.0.0.1",
            Path.Combine(runDirectory, "config.json"),
            CheckpointDirectory(runDirectory))
        {
            TlsDirectory = Path.Combine(runDirectory, "tls"),
            // Loopback, or the replicas' own addresses when they live elsewhere (network namespaces).
            CertificateNames = ["localhost", "127.0.0.1", .. Enumerable.Range(0, replicas).Select(r => network?.Host(r) ?? "127.0.0.1").Distinct()],
        };
    }

    public static string CheckpointDirectory(string runDirectory) => Path.Combine(runDirectory, "checkpoints");

    /// <summary>Where rank 0 exports the trained model at the end of a run.</summary>
    public static string ExportDirectory(string runDirectory) => Path.Combine(CheckpointDirectory(runDirectory), CheckpointSpec.ExportDirectoryName);
}
