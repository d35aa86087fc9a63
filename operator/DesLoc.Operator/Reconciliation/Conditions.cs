using k8s.Models;

namespace DesLoc.Operator.Reconciliation;

/// <summary>metav1.Condition bookkeeping: a condition's transition time moves only when its status changes.</summary>
public static class Conditions
{
    public const string Running = "Running";
    public const string Degraded = "Degraded";
    public const string Suspended = "Suspended";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";

    /// <summary>As a ReplicaSet's: True while the API server refuses to create a replica's pod (admission, quota, Pod Security).</summary>
    public const string ReplicaFailure = "ReplicaFailure";

    public static IReadOnlyList<V1Condition> Set(
        IReadOnlyList<V1Condition> conditions, string type, bool status, string reason, string message, DateTime now, long? generation)
    {
        string value = status ? "True" : "False";
        V1Condition? existing = conditions.FirstOrDefault(c => c.Type == type);
        var updated = new V1Condition
        {
            Type = type,
            Status = value,
            Reason = reason,
            Message = message,
            ObservedGeneration = generation,
            LastTransitionTime = existing is not null && existing.Status == value ? existing.LastTransitionTime : now,
        };
        return [.. conditions.Where(c => c.Type != type), updated];
    }

    public static bool IsTrue(IReadOnlyList<V1Condition> conditions, string type) =>
        conditions.Any(c => c.Type == type && c.Status == "True");
}
