using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;

namespace DesLoc.Operator.Local;

/// <summary>What a local run shows while it runs.</summary>
public interface IProgressView
{
    void OnEvent(JobEvent jobEvent);

    /// <summary>Called about twice a second with the job, the workers' endpoints and the running workers' process ids, by global rank.</summary>
    Task RefreshAsync(LowCommJob job, ReplicaLayout layout, JobCredentials credentials, IReadOnlyDictionary<int, int> running, CancellationToken cancellation);
}
