using System.Globalization;
using k8s.Models;

namespace DesLoc.Operator.Reconciliation;

/// <summary>What a worker's pod says about it, read once so the decisions below work on plain values.</summary>
public sealed record ObservedWorker(
    int Replica,
    int Worker,
    string Name,
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

    /// <summary>
    /// The replica and worker index from the pod's labels (a pod without a worker label is worker 0), or null for a
    /// pod that is not a worker of ours.
    /// </summary>
    public static ObservedWorker? From(V1Pod pod)
    {
        if (pod.Metadata?.Labels is not { } labels
            || !labels.TryGetValue(JobNames.ReplicaLabel, out string? value)
            || !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index))
        {
            return null;
        }

        int worker = 0;
        if (labels.TryGetValue(JobNames.WorkerLabel, out string? workerValue)
            && !int.TryParse(workerValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out worker))
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
        return new ObservedWorker(
            index,
            worker,
            pod.Metadata.Name,
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
