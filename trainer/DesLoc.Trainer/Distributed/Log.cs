using Microsoft.Extensions.Logging;

namespace DesLoc.Trainer.Distributed;

/// <summary>The replica process's log messages (source-generated, Kubernetes style: capitalised, past tense).</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Resumed rank {Rank} from its checkpoint of step {Step}")]
    public static partial void ResumedFromCheckpoint(this ILogger logger, int rank, long step);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started rank {Rank} fresh with members {Members}")]
    public static partial void StartedFresh(this ILogger logger, int rank, string members);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Round of step {Step} failed in quorum {Quorum}: {Reason}")]
    public static partial void RoundFailed(this ILogger logger, long step, ulong quorum, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Wrote checkpoint of step {Step} to {Directory}")]
    public static partial void WroteCheckpoint(this ILogger logger, long step, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Healed rank {Rank} from rank {Donor}: {Bytes} bytes of state at step {Step}")]
    public static partial void Healed(this ILogger logger, int rank, int donor, int bytes, long step);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heal of rank {Rank} from rank {Donor} failed, arriving again: {Reason}")]
    public static partial void HealFailed(this ILogger logger, int rank, int donor, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Message}")]
    public static partial void CheckpointRefused(this ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Step {Step}/{Steps}: loss {Loss:0.0000}, {Sent} bytes sent, {Reduction:0.0}x less than DDP, quorum {Members}")]
    public static partial void Progress(this ILogger logger, long step, int steps, double loss, long sent, double reduction, string members);

    [LoggerMessage(Level = LogLevel.Information, Message = "Finished rank {Rank} at step {Step}: held-out loss {Loss:0.0000}")]
    public static partial void Finished(this ILogger logger, int rank, long step, double loss);

    [LoggerMessage(Level = LogLevel.Information, Message = "Evaluated step {Step}/{Steps}: held-out loss {Loss:0.0000}, perplexity {Perplexity:0.00}")]
    public static partial void Evaluated(this ILogger logger, long step, int steps, double loss, double perplexity);

    [LoggerMessage(Level = LogLevel.Information, Message = "Exported the model to {Directory}")]
    public static partial void Exported(this ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping rank {Rank} at step {Step} on request")]
    public static partial void Stopping(this ILogger logger, int rank, long step);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rank {Rank} regrouped with its replica at the start of step {Step} (members {Members}) after its fast tier failed")]
    public static partial void Regrouped(this ILogger logger, int rank, long step, string members);
}
