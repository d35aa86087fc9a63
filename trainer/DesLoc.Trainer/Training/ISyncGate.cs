using DesLoc.Sync.Algorithms;

namespace DesLoc.Trainer.Training;

/// <summary>
/// Where a replica's exchanges meet the group. In one process the gate just runs the exchange. Between
/// processes it forms a quorum, runs the exchange, commits it or rolls back and redoes it, and may heal the
/// replica from a peer, in which case the replica continues from the position the gate returns.
/// </summary>
internal interface ISyncGate
{
    /// <summary>Where the replica starts: null for a fresh start at step 1, else a point restored from a peer or a checkpoint.</summary>
    Task<ResumePoint?> StartAsync(ReplicaTrainer replica, CancellationToken cancellationToken);

    /// <summary>
    /// Runs the exchange of (step, phase). Returns null when it completed there, or, when this replica was healed
    /// from a peer instead (its state replaced), the point to continue from: that point's exchange is still to run.
    /// </summary>
    Task<ResumePoint?> ExchangeAsync(ReplicaTrainer replica, long step, SyncPhase phase, Func<Task> exchange, CancellationToken cancellationToken);

    /// <summary>Called after every completed step (checkpoints go here).</summary>
    void StepCompleted(ReplicaTrainer replica, long step);
}

/// <summary>A point in the loop: the exchange of <see cref="Phase"/> at <see cref="Step"/>.</summary>
internal readonly record struct Position(long Step, SyncPhase Phase);

/// <summary>Where to continue: with a phase, that phase's exchange at <see cref="Step"/> is next; without, the step's compute.</summary>
internal readonly record struct ResumePoint(long Step, SyncPhase? Phase);

/// <summary>The in-process gate: the collective is a rendezvous in memory, nothing can half-fail.</summary>
internal sealed class DirectGate : ISyncGate
{
    public static DirectGate Instance { get; } = new();

    public Task<ResumePoint?> StartAsync(ReplicaTrainer replica, CancellationToken cancellationToken) => Task.FromResult<ResumePoint?>(null);

    public async Task<ResumePoint?> ExchangeAsync(ReplicaTrainer replica, long step, SyncPhase phase, Func<Task> exchange, CancellationToken cancellationToken)
    {
        await exchange();
        return null;
    }

    public void StepCompleted(ReplicaTrainer replica, long step)
    {
    }
}
