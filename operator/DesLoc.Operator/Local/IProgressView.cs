using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;

namespace DesLoc.Operator.Local;

/// <summary>What a local run shows while it runs.</summary>
public interface IProgressView
{
    void OnEvent(JobEvent jobEvent);

    /// <summary>Called about twice a second with the job and the replicas' endpoints.</summary>
    Task RefreshAsync(LowCommJob job, ReplicaLayout layout, string token, IReadOnlyDictionary<int, int> running, CancellationToken cancellation);
}
