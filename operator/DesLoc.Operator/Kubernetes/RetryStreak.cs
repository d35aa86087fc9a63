namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// Consecutive failures of one retried call (a list, a watch, a lease read): each failure gets an exponential delay,
/// capped, with jitter so replicas that lost the API server together do not return together; a success ends the
/// streak. Callers log the first failure of a streak as a warning and the rest at debug, so an outage is one line.
/// </summary>
public sealed class RetryStreak(TimeSpan first, TimeSpan cap, Func<double>? random = null)
{
    private readonly Func<double> _random = random ?? Random.Shared.NextDouble;
    private int _failures;

    /// <summary>Failures since the last success.</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Counts a failure; returns how many in a row (1: a new streak) and how long to wait before retrying.</summary>
    public (int Failures, TimeSpan Delay) Failed()
    {
        int failures = Interlocked.Increment(ref _failures);
        return (failures, Delay(failures, first, cap, _random()));
    }

    /// <summary>Ends the streak; returns how many failures it had (0: there was none).</summary>
    public int Succeeded() => Interlocked.Exchange(ref _failures, 0);

    /// <summary>
    /// The delay after <paramref name="failures"/> failures in a row: <paramref name="first"/> doubled each time up to
    /// <paramref name="cap"/>, then scaled into its upper half by <paramref name="random"/> (0..1), so it never exceeds
    /// the cap and never falls below half the exponential step.
    /// </summary>
    public static TimeSpan Delay(int failures, TimeSpan first, TimeSpan cap, double random)
    {
        TimeSpan step = Reconciliation.Backoff.Exponential(failures, first, cap);
        return TimeSpan.FromTicks((long)(step.Ticks * (0.5 + (0.5 * Math.Clamp(random, 0, 1)))));
    }

    /// <summary>A failure's one-line reason: the innermost message (a refused connection's socket error), no stack.</summary>
    public static string Reason(Exception exception)
    {
        Exception inner = exception;
        while (inner.InnerException is { } next)
        {
            inner = next;
        }

        return ReferenceEquals(inner, exception) ? $"{exception.GetType().Name}: {exception.Message}"
            : $"{exception.GetType().Name}: {exception.Message} ({inner.Message})";
    }
}
