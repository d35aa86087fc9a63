using DesLoc.Contract.Wire;

namespace DesLoc.Operator.Reconciliation;

/// <summary>What a replica's failure leads to, and how long to wait before it is recreated.</summary>
public static class RestartPolicy
{
    /// <summary>Reasons the platform gives when it took a healthy pod away; such a restart is not the job's fault.</summary>
    private static readonly HashSet<string> s_disruptions = new(StringComparer.Ordinal)
    {
        "Evicted", "Preempted", "PreemptionByScheduler", "DisruptionTarget", "TerminationByKubelet", "EvictionByEvictionAPI", "DeletionByTaintManager", "NodeShutdown", "Shutdown",
    };

    public sealed record Decision(FailureAction Action, bool Counted, string Cause);

    public static Decision Classify(FaultToleranceSpec policy, int? exitCode, string? reason)
    {
        if (reason is not null && s_disruptions.Contains(reason))
        {
            return new Decision(FailureAction.Restart, Counted: false, $"the pod was disrupted ({reason})");
        }

        string cause = exitCode is { } code
            ? $"exited with code {code}{(reason is null or "Error" ? "" : $" ({reason})")}"
            : $"failed ({reason ?? "unknown reason"})";
        // Failing the job is no restart: only a replica that will be recreated counts towards maxRestarts.
        if (exitCode is { } exit && policy.Rules.FirstOrDefault(r => r.ExitCodes.Contains(exit)) is { } rule)
        {
            return new Decision(rule.Action, Counted: rule.Action == FailureAction.Restart, cause);
        }

        // The trainer's configuration error: restarting cannot help.
        return exitCode == TrainerExitCodes.ConfigurationError
            ? new Decision(FailureAction.FailJob, Counted: false, cause + ", a configuration error")
            : new Decision(FailureAction.Restart, Counted: true, cause);
    }

    /// <summary>Initial delay, doubled for each earlier restart of the same replica, capped.</summary>
    public static TimeSpan Backoff(BackoffSpec backoff, int restartsOfReplica) => Reconciliation.Backoff.Exponential(
        Math.Max(1, restartsOfReplica), TimeSpan.FromSeconds(backoff.InitialSeconds), TimeSpan.FromSeconds(backoff.MaxSeconds));
}
