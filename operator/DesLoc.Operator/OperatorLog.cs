using Microsoft.Extensions.Logging;

namespace DesLoc.Operator;

/// <summary>The operator's log lines, compiled once (LoggerMessage).</summary>
internal static partial class OperatorLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Rank 0 of {Job} refused new sync periods: {Reason}")]
    public static partial void PeriodsRefused(this ILogger logger, string job, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send sync periods to {Job}: {Reason}")]
    public static partial void PeriodsNotSent(this ILogger logger, string job, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconcile of {Job} failed; retrying with backoff")]
    public static partial void ReconcileFailed(this ILogger logger, Exception error, string job);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Job}: {Reason}: {Message}")]
    public static partial void JobEvent(this ILogger logger, string job, string reason, string message);
}
