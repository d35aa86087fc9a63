using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Reconciliation;
using k8s.Models;

namespace DesLoc.Operator.Controllers;

/// <summary>Where a reconcile plan is carried out: the Kubernetes API, or processes on this machine.</summary>
public interface IJobBackend
{
    Task CreateServiceAsync(V1Service service, CancellationToken cancellation);

    Task CreateSecretAsync(V1Secret secret, CancellationToken cancellation);

    Task CreateNetworkPolicyAsync(V1NetworkPolicy policy, CancellationToken cancellation);

    /// <summary>
    /// Replaces <paramref name="current"/>'s spec with <paramref name="spec"/> (a PUT under its resourceVersion: on a
    /// stale copy the API server answers 409 Conflict, and the reconcile is redone on the fresh one).
    /// </summary>
    Task ReplaceNetworkPolicyAsync(V1NetworkPolicy current, V1NetworkPolicySpec spec, CancellationToken cancellation);

    /// <summary>Creates the pod unless one of that name exists (a create that loses a race is not an error).</summary>
    Task CreatePodAsync(V1Pod pod, CancellationToken cancellation);

    Task DeletePodAsync(string ns, string name, CancellationToken cancellation);

    Task UpdateStatusAsync(LowCommJob job, LowCommJobStatus status, CancellationToken cancellation);

    Task RecordEventAsync(LowCommJob job, JobEvent jobEvent, CancellationToken cancellation);

    Task DeleteJobAsync(LowCommJob job, CancellationToken cancellation);
}
