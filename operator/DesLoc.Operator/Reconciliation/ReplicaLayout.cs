using DesLoc.Contract.Wire;

namespace DesLoc.Operator.Reconciliation;

/// <summary>
/// Where replicas live and listen. On a cluster every pod has its own DNS name and the fixed ports of the contract;
/// locally every "pod" is a process on loopback with ports of its own. The reconciler is the same for both.
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
    /// The cluster layout: <c>job-i.job.ns.svc</c>, the contract's ports (gRPC, +1 for ring data, metrics), and the
    /// checkpoints where the spec says (by default /checkpoints).
    /// </summary>
    public static ReplicaLayout Cluster(string job, string ns, CheckpointSpec checkpoint) => new(
        index => $"{JobNames.Pod(job, index)}.{JobNames.Service(job)}.{ns}.svc",
        _ => TrainerEnvironment.DefaultGrpcPort,
        _ => TrainerEnvironment.DefaultMetricsPort,
        "0.0.0.0",
        $"{JobNames.ConfigMountPath}/{JobNames.ConfigKey}",
        checkpoint.Path ?? CheckpointSpec.DefaultMountPath);

    public string Peers(int replicas) => string.Join(',', Enumerable.Range(0, replicas).Select(i => $"{Host(i)}:{GrpcPort(i)}"));
}
