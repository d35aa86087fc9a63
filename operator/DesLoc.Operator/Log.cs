using Microsoft.Extensions.Logging;

namespace DesLoc.Operator;

/// <summary>The operator's log messages (source-generated, compiled once).</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Listed {Count} {Kind} at resourceVersion {ResourceVersion}")]
    public static partial void Listed(this ILogger logger, int count, string kind, string resourceVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watch of {Kind} from resourceVersion {ResourceVersion} expired (410 Gone); listing again")]
    public static partial void WatchExpired(this ILogger logger, string kind, string resourceVersion);

    // A failure streak (an unreachable API server) is one warning, its retries debug lines, its end one line: no stack
    // traces, which say nothing about a refused connection and flood the log once per retry.
    [LoggerMessage(Level = LogLevel.Warning, Message = "List or watch of {Kind} failed: {Reason}; retrying with backoff (first in {Delay}), further failures at debug level")]
    public static partial void ListWatchFailing(this ILogger logger, string kind, string reason, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Debug, Message = "List or watch of {Kind} failed ({Failures} in a row): {Reason}; retrying in {Delay}")]
    public static partial void ListWatchStillFailing(this ILogger logger, string kind, int failures, string reason, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "List and watch of {Kind} work again after {Failures} failures")]
    public static partial void ListWatchRecovered(this ILogger logger, string kind, int failures);

    [LoggerMessage(Level = LogLevel.Error, Message = "A change handler of the {Kind} cache threw")]
    public static partial void HandlerFailed(this ILogger logger, Exception exception, string kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started leading lease {Namespace}/{Name} as {Identity}")]
    public static partial void StartedLeading(this ILogger logger, string @namespace, string name, string identity);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped leading lease {Namespace}/{Name} as {Identity}")]
    public static partial void StoppedLeading(this ILogger logger, string @namespace, string name, string identity);

    [LoggerMessage(Level = LogLevel.Information, Message = "Observed leader {Leader} of lease {Namespace}/{Name}")]
    public static partial void NewLeader(this ILogger logger, string? leader, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leader election on lease {Namespace}/{Name} failed: {Reason}; retrying with backoff (first in {Delay}), further failures at debug level")]
    public static partial void ElectionFailing(this ILogger logger, string @namespace, string name, string reason, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Leader election on lease {Namespace}/{Name} failed ({Failures} in a row): {Reason}; retrying in {Delay}")]
    public static partial void ElectionStillFailing(this ILogger logger, string @namespace, string name, int failures, string reason, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Leader election on lease {Namespace}/{Name} reaches the API server again after {Failures} failures")]
    public static partial void ElectionRecovered(this ILogger logger, string @namespace, string name, int failures);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Leader election on lease {Namespace}/{Name} reported: {Reason}")]
    public static partial void ElectionError(this ILogger logger, string @namespace, string name, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Released lease {Namespace}/{Name} held by {Identity}")]
    public static partial void Released(this ILogger logger, string @namespace, string name, string identity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release lease {Namespace}/{Name} ({Reason}); a standby takes over when it expires")]
    public static partial void ReleaseFailed(this ILogger logger, string @namespace, string name, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped event {Reason} for {Kind} {Namespace}/{Name}")]
    public static partial void EventDropped(this ILogger logger, Exception exception, string reason, string? kind, string? @namespace, string? name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rank 0 of {Job} refused new sync periods: {Reason}")]
    public static partial void PeriodsRefused(this ILogger logger, string job, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send sync periods to {Job}: {Reason}")]
    public static partial void PeriodsNotSent(this ILogger logger, string job, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconcile of {Job} failed; retrying with backoff")]
    public static partial void ReconcileFailed(this ILogger logger, Exception error, string job);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconcile of {Job}: {Refusal}; retrying with backoff")]
    public static partial void CreationRefused(this ILogger logger, string job, string refusal);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reconcile of {Job} met a conflict ({Reason}); redoing it on the fresh copy")]
    public static partial void ReconcileConflict(this ILogger logger, string job, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling rank 0 of {Job} failed; trying again next poll")]
    public static partial void PollFailed(this ILogger logger, Exception error, string job);
}
