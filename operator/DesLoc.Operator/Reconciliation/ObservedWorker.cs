using System.Globalization;
using k8s.Models;

namespace DesLoc.Operator.Reconciliation;

/// <summary>What a replica's pod says about it, read once so the decisions below work on plain values.</summary>
public sealed record ObservedReplica(
    int Index,
    string Uid,
    string Phase,
    bool Ready,
    bool Terminating,
    int? ExitCode,
    string? Reason,
    string? Message,
    DateTime? FinishedAt)
{
    public bool Failed => Phase == "Failed";

    public bool Succeeded => Phase == "Succeeded";

    public bool Running => Phase == "Running";

    /// <summary>The replica index from the pod's label, or null for a pod that is not a replica of ours.</summary>
    public static ObservedReplica? From(V1Pod pod)
    {
        if (pod.Metadata?.Labels is not { } labels
            || !labels.TryGetValue(JobNames.ReplicaLabel, out string? value)
            || !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index))
        {
            return null;
        }

        V1ContainerStatus? trainer = pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == JobNames.TrainerContainer)
            ?? pod.Status?.ContainerStatuses?.FirstOrDefault();
        V1ContainerStateTerminated? terminated = trainer?.State?.Terminated;
        bool ready = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
        // An evicted or preempted pod says why in its own reason (or in a DisruptionTarget condition), not in an exit code.
        string? reason = pod.Status?.Reason
            ?? pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "DisruptionTarget" && c.Status == "True")?.Reason
            ?? terminated?.Reason;
        return new ObservedReplica(
            index,
            pod.Metadata.Uid ?? pod.Metadata.Name,
            pod.Status?.Phase ?? "Pending",
            ready,
            pod.Metadata.DeletionTimestamp is not null,
            terminated?.ExitCode,
            reason,
            // The trainer's termination message (or the log tail the kubelet falls back to), else the platform's word.
            terminated?.Message is { Length: > 0 } message ? message.Trim() : pod.Status?.Message,
            terminated?.FinishedAt);
    }
}
