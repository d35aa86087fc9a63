using DesLoc.Contract.Wire;

namespace DesLoc.Operator.Reconciliation;

/// <summary>
/// Where workers live and listen, by global rank (<see cref="JobTopology.GlobalRank"/>: replica-major, so with one
/// worker per replica the rank is the replica index). On a cluster every pod has its own DNS name and the fixed ports
/// of the contract; locally every "pod" is a process on loopback with ports of its own. The reconciler is the same for both.
/// </summary>
public sealed record ReplicaLayout(
    Func<int, string> Host,
    Func<int, int> GrpcPort,
    Func<int, int> MetricsPort,
    string BindAddress,
    string ConfigPath,
    string CheckpointPath)
{
    /// <summary>
    /// The cluster layout: <c>job-i.job.ns.svc</c> (<c>job-r-w.job.ns.svc</c> with more than one worker per replica),
    /// the contract's ports (gRPC, +1 for ring data, metrics), the checkpoints where the spec says (by default /checkpoints),
    /// and TLS files mounted from the job's Secret.
    /// </summary>
    public static ReplicaLayout Cluster(string job, string ns, CheckpointSpec checkpoint, int workersPerReplica = 1)
    {
        var topology = new JobTopology(1, workersPerReplica);
        return new ReplicaLayout(
            rank => $"{JobNames.Pod(job, topology.ReplicaOf(rank), topology.WorkerOf(rank), workersPerReplica)}.{JobNames.Service(job)}.{ns}.svc",
            _ => TrainerEnvironment.DefaultGrpcPort,
            _ => TrainerEnvironment.DefaultMetricsPort,
            "0.0.0.0",
            $"{JobNames.ConfigMountPath}/{JobNames.ConfigKey}",
            checkpoint.Path ?? CheckpointSpec.DefaultMountPath)
        {
            // Wildcards under the headless Service, so one certificate serves every worker, present and future.
            CertificateNames = [$"*.{JobNames.Service(job)}.{ns}.svc", $"*.{JobNames.Service(job)}.{ns}.svc.cluster.local", .. s_loopback],
        };
    }

    /// <summary>Where a worker finds the job's TLS files (<see cref="TrainerEnvironment.TlsDirectory"/>).</summary>
    public string TlsDirectory { get; init; } = JobNames.TlsMountPath;

    /// <summary>
    /// The names the job's certificate carries: every name a worker is dialed by, by its peers and by the operator.
    /// Loopback is always among them (a local run, and a client on the pod itself).
    /// </summary>
    public IReadOnlyList<string> CertificateNames { get; init; } = s_loopback;

    private static readonly string[] s_loopback = ["localhost", "127.0.0.1"];

    /// <summary>host:gRPC port of each of <paramref name="workers"/> workers, in global-rank order.</summary>
    public string Peers(int workers) => string.Join(',', Enumerable.Range(0, workers).Select(Address));

    /// <summary>host:gRPC port of the worker of global rank <paramref name="rank"/>.</summary>
    public string Address(int rank) => $"{Host(rank)}:{GrpcPort(rank)}";
}
