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
    public const int DefaultGrpcPort = 29500;
    public const int DefaultMetricsPort = 9400;

    /// <summary>The cluster layout: <c>job-i.job.ns.svc</c>, ports 29500 (gRPC; +1 for ring data) and 9400 (metrics).</summary>
    public static ReplicaLayout Cluster(string job, string ns) => new(
        index => $"{JobNames.Pod(job, index)}.{JobNames.Service(job)}.{ns}.svc",
        _ => DefaultGrpcPort,
        _ => DefaultMetricsPort,
        "0.0.0.0",
        $"{JobNames.ConfigMountPath}/{JobNames.ConfigKey}",
        JobNames.CheckpointMountPath);

    public string Peers(int replicas) => string.Join(',', Enumerable.Range(0, replicas).Select(i => $"{Host(i)}:{GrpcPort(i)}"));
}
