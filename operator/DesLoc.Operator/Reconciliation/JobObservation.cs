using DesLoc.Operator.Api.Resources;
using k8s.Models;

namespace DesLoc.Operator.Reconciliation;

/// <summary>
/// Everything one reconcile looks at: the job, its workers' pods, whether its Service, Secret and NetworkPolicy exist,
/// and what the trainers last reported. <see cref="NetworkPolicy"/> is the job's policy as last seen, to compare with
/// the desired one; null when it is missing or not seen yet (just created).
/// </summary>
public sealed record JobObservation(
    LowCommJob Job,
    IReadOnlyList<V1Pod> Pods,
    bool HasService,
    bool HasSecret,
    TrainerReport? Report,
    DateTime Now,
    bool HasNetworkPolicy = false,
    V1NetworkPolicy? NetworkPolicy = null);

/// <summary>
/// The trainers' answers to GetStatus. Progress, periods, bandwidth and the comm fraction are rank 0's (replica 0,
/// worker 0: the coordinator), measured over a window (<see cref="CommFraction"/> covers the last
/// <see cref="WindowSteps"/> steps, on the inter-site tier); the bytes are the job's: <see cref="BytesSent"/> (inter-site)
/// and <see cref="IntraBytesSent"/> summed over the workers that answered, <see cref="DdpEquivalentBytes"/> summed over
/// replicas (each of a replica's workers reports its replica's). Also any sync-period change sent to rank 0 that no status records yet.
/// </summary>
public sealed record TrainerReport(
    long Step,
    double Loss,
    long BytesSent,
    long DdpEquivalentBytes,
    double BandwidthBytesPerSecond,
    double CommFraction,
    IReadOnlyDictionary<string, int> Periods,
    PeriodChange? SentChange = null,
    long WindowSteps = 0,
    long IntraBytesSent = 0,
    double EvalLoss = double.NaN,
    long EvalStep = 0);

/// <summary>A Kubernetes Event to record about the job.</summary>
public sealed record JobEvent(string Type, string Reason, string Message)
{
    public static JobEvent Normal(string reason, string message) => new("Normal", reason, message);

    public static JobEvent Warning(string reason, string message) => new("Warning", reason, message);
}

/// <summary>
/// What one reconcile decided; the controller carries it out in this order: children, pods, the adaptive decision
/// (sent to rank 0), status, events. <see cref="AlignNetworkPolicy"/>: the policy exists and the job still runs, so the
/// controller brings its spec in line with the desired one (the operator's peers may have changed since it was made),
/// writing only when they differ.
/// </summary>
public sealed record ReconcilePlan(
    LowCommJobStatus Status,
    bool CreateService,
    bool CreateSecret,
    IReadOnlyList<V1Pod> CreatePods,
    IReadOnlyList<string> DeletePods,
    IReadOnlyList<JobEvent> Events,
    TimeSpan? RequeueAfter,
    bool DeleteJob,
    AdaptiveDecision? Adaptive = null,
    bool CreateNetworkPolicy = false,
    bool AlignNetworkPolicy = false);

/// <summary>
/// The adaptive controller judged a full measurement window: <see cref="Change"/> is the new periods to send to rank 0,
/// or null when the comm fraction is inside the band. Either way a new window starts.
/// </summary>
public sealed record AdaptiveDecision(PeriodChange? Change);

/// <summary>A child the API server would not create (admission, quota, Pod Security), in its own words.</summary>
public sealed record CreationRefusal(string Name, string Message);
