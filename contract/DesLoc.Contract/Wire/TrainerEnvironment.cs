namespace DesLoc.Contract.Wire;

/// <summary>
/// How the operator tells a trainer process who it is (DESIGN.md §5): the environment variables it sets, the ports
/// the trainer listens on, the header that carries the job's token, and where a trainer leaves its last words.
/// </summary>
public static class TrainerEnvironment
{
    public const string Job = "DESLOC_JOB";
    /// <summary>The replica index, 0..R-1.</summary>
    public const string Rank = "DESLOC_RANK";

    /// <summary>The number of replicas R.</summary>
    public const string WorldSize = "DESLOC_WORLD_SIZE";

    /// <summary>The worker index inside the replica, 0..W-1 (absent: 0).</summary>
    public const string Worker = "DESLOC_WORKER";

    /// <summary>Workers per replica W (absent: 1).</summary>
    public const string WorkersPerReplica = "DESLOC_WORKERS_PER_REPLICA";

    /// <summary>host:port of every worker of the job, replica-major (<see cref="JobTopology.GlobalRank"/>): both tiers' peers in one list.</summary>
    public const string Peers = "DESLOC_PEERS";
    public const string Config = "DESLOC_CONFIG";
    public const string Token = "DESLOC_TOKEN";
    public const string GrpcPort = "DESLOC_GRPC_PORT";
    public const string MetricsPort = "DESLOC_METRICS_PORT";
    public const string BindAddress = "DESLOC_BIND_ADDRESS";

    /// <summary>
    /// Directory of the job's TLS files (<see cref="JobTlsFiles"/>: ca.crt, tls.crt, tls.key); required unless the
    /// spec turns TLS off (<c>transport.tls: false</c>).
    /// </summary>
    public const string TlsDirectory = "DESLOC_TLS_DIR";

    /// <summary>Where the trainer writes why it stopped; a local run points it at a file per replica.</summary>
    public const string TerminationMessagePath = "DESLOC_TERMINATION_MESSAGE_PATH";

    /// <summary>Every variable of the contract starts with this; the operator owns them in the trainer container.</summary>
    public const string Prefix = "DESLOC_";

    /// <summary>gRPC (sync, status, control); bulk ring data uses the next port.</summary>
    public const int DefaultGrpcPort = 29500;

    /// <summary>HTTP: <c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c>.</summary>
    public const int DefaultMetricsPort = 9400;

    /// <summary>The gRPC metadata key of the job's token; a call without it is refused.</summary>
    public const string TokenHeader = "x-desloc-token";

    /// <summary>Kubernetes' default <c>terminationMessagePath</c>: the kubelet copies this file into the pod's status.</summary>
    public const string DefaultTerminationMessageFile = "/dev/termination-log";
}

/// <summary>What a trainer's exit code means to the operator.</summary>
public static class TrainerExitCodes
{
    public const int Success = 0;

    /// <summary>The job's configuration or data cannot work: restarting will not help, so the job fails.</summary>
    public const int ConfigurationError = 2;

    /// <summary>An in-process run stopped by Ctrl+C (128 + SIGINT).</summary>
    public const int Interrupted = 130;

    /// <summary>A replica stopped by SIGTERM or SIGINT after writing its checkpoint (128 + SIGTERM): not finished.</summary>
    public const int Stopped = 143;
}
