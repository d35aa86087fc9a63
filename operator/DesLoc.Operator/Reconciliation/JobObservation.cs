using DesLoc.Operator.Api.Resources;
using k8s.Models;

namespace DesLoc.Operator.Reconciliation;

/// <summary>Everything one reconcile looks at: the job, its pods, whether its Service and Secret exist, and what rank 0 last reported.</summary>
public sealed record JobObservation(
    LowCommJob Job,
    IReadOnlyList<V1Pod> Pods,
    bool HasService,
    bool HasSecret,
    TrainerReport? Report,
    DateTime Now);

/// <summary>Rank 0's answer to GetStatus, and any sync-period change the adaptive controller has sent since.</summary>
public sealed record TrainerReport(
    long Step,
    double Loss,
    long BytesSent,
    long DdpEquivalentBytes,
    double BandwidthBytesPerSecond,
    double CommFraction,
    IReadOnlyDictionary<string, int> Periods,
    PeriodChange? SentChange = null);

/// <summary>A Kubernetes Event to record about the job.</summary>
public sealed record JobEvent(string Type, string Reason, string Message)
{
    public static JobEvent Normal(string reason, string message) => new("Normal", reason, message);

    public static JobEvent Warning(string reason, string message) => new("Warning", reason, message);
}

/// <summary>What one reconcile decided; the backend carries it out in this order: children, pods, status, events.</summary>
public sealed record ReconcilePlan(
    LowCommJobStatus Status,
    bool CreateService,
    bool CreateSecret,
    IReadOnlyList<V1Pod> CreatePods,
    IReadOnlyList<string> DeletePods,
    IReadOnlyList<JobEvent> Events,
    TimeSpan? RequeueAfter,
    bool DeleteJob);

/// <summary>A child the API server would not create (admission, quota, Pod Security), in its own words.</summary>
public sealed record CreationRefusal(string Name, string Message);
