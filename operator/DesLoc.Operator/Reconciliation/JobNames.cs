using DesLoc.Operator.Api.Resources;

namespace DesLoc.Operator.Reconciliation;

/// <summary>Stable names and labels of a job's children, so every reconcile finds what an earlier one created.</summary>
public static class JobNames
{
    public const string JobLabel = "desloc.dev/job-name";
    public const string ReplicaLabel = "desloc.dev/replica-index";

    /// <summary>The worker's index inside its replica (0..W-1); a pod without it is worker 0.</summary>
    public const string WorkerLabel = "desloc.dev/worker-index";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedBy = "desloc-operator";
    public const string TrainerContainer = "trainer";
    public const string TokenKey = "token";
    public const string ConfigKey = "config.json";
    public const string ConfigMountPath = "/etc/desloc";

    /// <summary>The job's TLS files (ca.crt, tls.crt, tls.key), from the same Secret volume as the config.</summary>
    public const string TlsMountPath = ConfigMountPath + "/" + TlsSubdirectory;
    public const string TlsSubdirectory = "tls";

    /// <summary>Replica i's pod keeps its name across restarts: <c>job-i</c>.</summary>
    public static string Pod(string job, int index) => $"{job}-{index}";

    /// <summary>
    /// Worker w of replica r: <c>job-r</c> with one worker per replica (as <see cref="Pod(string, int)"/>), else
    /// <c>job-r-w</c>. The name is also the pod's hostname under the headless Service.
    /// </summary>
    public static string Pod(string job, int replica, int worker, int workersPerReplica) =>
        workersPerReplica == 1 ? Pod(job, replica) : $"{job}-{replica}-{worker}";

    /// <summary>The headless Service that gives each worker a DNS name (<c>job-i.job.ns.svc</c>, <c>job-r-w.job.ns.svc</c>).</summary>
    public static string Service(string job) => job;

    public static string Secret(string job) => $"{job}-desloc";

    public static string NetworkPolicy(string job) => $"{job}-desloc";

    public static string Selector(string job) => $"{JobLabel}={job}";

    public static IDictionary<string, string> Labels(string job) => new Dictionary<string, string>
    {
        [JobLabel] = job,
        [ManagedByLabel] = ManagedBy,
    };

    public static string Key(LowCommJob job) => $"{job.Metadata.NamespaceProperty ?? "default"}/{job.Metadata.Name}";
}
