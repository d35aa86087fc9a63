namespace DesLoc.Operator.Reconciliation;

/// <summary>
/// The one exponential backoff behind every wait before a retry in the operator: a failed replica's recreation, a
/// failed reconcile in the work queue, a failed list, watch or lease call.
/// </summary>
public static class Backoff
{
    /// <summary>The wait before attempt <paramref name="attempt"/> (1 = the first retry): <paramref name="first"/>, doubled per earlier retry, capped.</summary>
    public static TimeSpan Exponential(int attempt, TimeSpan first, TimeSpan cap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        // 2^30 already exceeds any sane cap, and keeps the power from overflowing.
        double ticks = first.Ticks * Math.Pow(2, Math.Min(attempt - 1, 30));
        return ticks >= cap.Ticks ? cap : TimeSpan.FromTicks((long)ticks);
    }
}
