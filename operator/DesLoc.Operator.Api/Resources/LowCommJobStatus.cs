using System.ComponentModel;
using System.Text.Json.Serialization;
using k8s.Models;

namespace DesLoc.Operator.Api.Resources;

/// <summary>What the operator observed: the phase, one entry per replica, progress, sync periods and bytes sent.</summary>
public sealed record LowCommJobStatus
{
    public long? ObservedGeneration { get; init; }

    public JobPhase Phase { get; init; } = JobPhase.Pending;

    [Description("Why the job is in its phase, in one line (for a Failed job: the cause).")]
    public string? Message { get; init; }

    public IReadOnlyList<V1Condition> Conditions { get; init; } = [];

    public DateTime? StartTime { get; init; }

    public DateTime? CompletionTime { get; init; }

    [Description("Ready replicas over desired, for the printer column (for example 3/4).")]
    public string? Ready { get; init; }

    public int ReadyReplicas { get; init; }

    [Description("Ready workers over desired (replicas x workersPerReplica), for the printer column (for example 4/4). A replica is ready when all its workers are.")]
    public string? WorkersReady { get; init; }

    public int ReadyWorkers { get; init; }

    [Description("Restarts counted towards maxRestarts, over all replicas.")]
    public int Restarts { get; init; }

    public IReadOnlyList<ReplicaStatus> Replicas { get; init; } = [];

    public long? Step { get; init; }

    public double? Loss { get; init; }

    [Description("Rank 0's latest held-out loss (mean cross-entropy, nats per token), every training.evalEverySteps steps and at the end.")]
    public double? EvalLoss { get; init; }

    [Description("exp(evalLoss).")]
    public double? EvalPerplexity { get; init; }

    [Description("The step whose model evalLoss measured.")]
    public long? EvalStep { get; init; }

    public SyncStatus? Sync { get; init; }

    public CommunicationStatus? Communication { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<JobPhase>))]
public enum JobPhase
{
    Pending,
    Running,
    Degraded,
    Restarting,
    Suspended,
    Succeeded,
    Failed,
}

[JsonConverter(typeof(JsonStringEnumConverter<ReplicaPhase>))]
public enum ReplicaPhase
{
    Pending,
    Running,
    Restarting,
    Succeeded,
    Failed,
}

public sealed record ReplicaStatus
{
    public int Index { get; init; }

    public ReplicaPhase Phase { get; init; }

    public string? Pod { get; init; }

    [Description("Restarts of this replica, evictions included.")]
    public int Restarts { get; init; }

    public int? LastExitCode { get; init; }

    public string? LastFailureReason { get; init; }

    [Description("What the trainer said when it last failed (its termination message, or its log tail).")]
    public string? LastFailureMessage { get; init; }

    public DateTime? LastFailureTime { get; init; }

    [Description("When a failed replica will be recreated (backoff).")]
    public DateTime? RestartAfter { get; init; }

    [Description("The pod whose failure was counted last, so that a failure is counted once.")]
    public string? FailedPodUid { get; init; }

    [Description("With workersPerReplica > 1, each worker's own state (its pod is restarted on its own); the fields above then sum or summarize them: restarts are the workers' total, the last failure is the latest of any worker's. Absent with one worker per replica.")]
    public IReadOnlyList<WorkerStatus>? Workers { get; init; }
}

/// <summary>One worker of a replica (one pod), when a replica has more than one.</summary>
public sealed record WorkerStatus
{
    [Description("The worker's index inside its replica (0..workersPerReplica-1).")]
    public int Index { get; init; }

    public ReplicaPhase Phase { get; init; }

    public string? Pod { get; init; }

    public bool Ready { get; init; }

    [Description("Restarts of this worker's pod, evictions included.")]
    public int Restarts { get; init; }

    public int? LastExitCode { get; init; }

    public string? LastFailureReason { get; init; }

    [Description("What the trainer said when this worker last failed (its termination message, or its log tail).")]
    public string? LastFailureMessage { get; init; }

    public DateTime? LastFailureTime { get; init; }

    [Description("When the failed worker's pod will be recreated (backoff).")]
    public DateTime? RestartAfter { get; init; }

    [Description("The pod whose failure was counted last, so that a failure is counted once.")]
    public string? FailedPodUid { get; init; }
}

public sealed record SyncStatus
{
    [Description("Current sync periods by state: params, m1, m2 (DES-LOC, Local Adam) or outer (DiLoCo, PALSGD, DCT).")]
    public IReadOnlyDictionary<string, int> Periods { get; init; } = new Dictionary<string, int>();

    public PeriodChange? Pending { get; init; }

    public DateTime? LastChangeTime { get; init; }

    [Description("When the adaptive controller last judged a full measurement window (whether or not it changed anything).")]
    public DateTime? LastDecisionTime { get; init; }

    [Description("Period changes made by the adaptive controller.")]
    public int Changes { get; init; }
}

public sealed record PeriodChange
{
    public IReadOnlyDictionary<string, int> Periods { get; init; } = new Dictionary<string, int>();

    public long SwitchStep { get; init; }

    public string? Reason { get; init; }
}

public sealed record CommunicationStatus
{
    [Description("Bytes the job's workers have sent between replicas so far (the inter-site tier; payload on the ring schedule), summed over every worker that reported.")]
    public long BytesSent { get; init; }

    [Description("Bytes the workers have sent inside their replicas (the fast tier: gradients every step, the gather of each exchange's shards), summed over workers. Absent with one worker per replica.")]
    public long? IntraBytesSent { get; init; }

    [Description("Bytes flat DDP over all workers would have sent out of the replicas (their sites) for the same steps, summed over replicas.")]
    public long DdpEquivalentBytes { get; init; }

    [Description("ddpEquivalentBytes / bytesSent: the reduction of bytes between sites.")]
    public double? Reduction { get; init; }

    public double? BandwidthBytesPerSecond { get; init; }

    [Description("Fraction of wall time rank 0 (replica 0, worker 0) spent in sync rounds between replicas.")]
    public double? CommFraction { get; init; }
}
