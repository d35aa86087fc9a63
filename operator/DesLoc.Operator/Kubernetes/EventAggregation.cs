namespace DesLoc.Operator.Kubernetes;

/// <summary>An Event already written: its name and namespace, how often it was seen, first and last.</summary>
public sealed record EventSeries(string Name, string Namespace, int Count, DateTime FirstTimestamp, DateTime LastTimestamp);

/// <summary>
/// What to write for one occurrence: a new Event (<see cref="CreateNew"/>), or the previous one patched to
/// <see cref="Count"/> and <see cref="LastTimestamp"/>.
/// </summary>
public readonly record struct EventDecision(bool CreateNew, int Count, DateTime FirstTimestamp, DateTime LastTimestamp);

/// <summary>client-go's event aggregation as a pure function: a repeat within the window bumps the count.</summary>
public static class EventAggregation
{
    /// <summary>Repeats closer than this to the previous occurrence are folded into one Event.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(10);

    /// <param name="previous">The last Event written for the same object, type, reason and message; null if none.</param>
    /// <param name="now">This occurrence's time (UTC).</param>
    /// <param name="window">How long after the previous occurrence a repeat still aggregates.</param>
    public static EventDecision Decide(EventSeries? previous, DateTime now, TimeSpan window)
    {
        if (previous is null || now - previous.LastTimestamp > window || now < previous.FirstTimestamp)
        {
            return new EventDecision(true, 1, now, now);
        }

        return new EventDecision(false, previous.Count + 1, previous.FirstTimestamp, now);
    }
}
