using DesLoc.Sync.Algorithms;
using DesLoc.Sync.State;

namespace DesLoc.Trainer.Training;

/// <summary>
/// Where a replica's exchanges meet the group. In one process the gate just runs the exchange. Between
/// processes it forms a quorum, runs the exchange, commits it or rolls back and redoes it, and may heal the
/// replica from a peer, in which case the replica continues from the position the gate returns. A stop request
/// (<c>stopping</c>) lets the gate give up a round that can no longer form (<see cref="StoppedAtSyncPointException"/>);
/// cancellation aborts everything.
/// </summary>
internal interface ISyncGate
{
    /// <summary>Where the replica starts: null for a fresh start at step 1, else a point restored from a peer or a checkpoint.</summary>
    Task<ResumePoint?> StartAsync(IGatedReplica replica, CancellationToken stopping, CancellationToken cancellationToken);

    /// <summary>
    /// Runs the exchange of (step, phase). Returns null when it completed there, or, when this replica was healed
    /// from a peer instead (its state replaced), the point to continue from: that point's exchange is still to run.
    /// </summary>
    Task<ResumePoint?> ExchangeAsync(IGatedReplica replica, long step, SyncPhase phase, Func<Task> exchange, CancellationToken stopping, CancellationToken cancellationToken);

    /// <summary>
    /// The replica's fast tier failed at the start of <paramref name="step"/> (a sibling worker is gone; this worker's
    /// state is still that of step − 1, its batch handed back): waits for the replica to be whole again and regroups
    /// with it. Returns null to redo the step with its own state, or the point to continue from after healing.
    /// </summary>
    Task<ResumePoint?> RegroupAsync(IGatedReplica replica, long step, CancellationToken stopping, CancellationToken cancellationToken);

    /// <summary>Called after every completed step (checkpoints go here).</summary>
    void StepCompleted(IGatedReplica replica, long step);

    /// <summary>
    /// Called when steps <paramref name="first"/>..<paramref name="last"/> completed together (a sync was in flight over
    /// them; one step when none was): the state is that of <paramref name="last"/>.
    /// </summary>
    void StepsCompleted(IGatedReplica replica, long first, long last) => StepCompleted(replica, last);
}

/// <summary>
/// All a gate may do to the replica it guards: snapshot and restore its whole state (to roll back a failed round, to
/// heal from a peer, to checkpoint), and hand it the period change the group agreed on.
/// </summary>
internal interface IGatedReplica
{
    StateBundle ExportState(Position position);

    /// <summary>Replaces the replica's state; returns the position the bundle was taken at.</summary>
    Position ImportState(StateBundle bundle);

    /// <summary>The period change this replica will apply, if any (from the coordinator, identical on every member).</summary>
    (long SwitchStep, IReadOnlyDictionary<string, int> Periods)? PendingPeriodChange { get; }

    /// <summary>Schedules new sync periods from <paramref name="switchStep"/> on; replaces an earlier schedule.</summary>
    void SchedulePeriods(long switchStep, IReadOnlyDictionary<string, int> periods);
}

/// <summary>A point in the loop: the exchange of <see cref="Phase"/> at <see cref="Step"/>.</summary>
internal readonly record struct Position(long Step, SyncPhase Phase);

/// <summary>Where to continue: with a phase, that phase's exchange at <see cref="Step"/> is next; without, the step's compute.</summary>
internal readonly record struct ResumePoint(long Step, SyncPhase? Phase);

/// <summary>The in-process gate: the collective is a rendezvous in memory, nothing can half-fail.</summary>
internal sealed class DirectGate : ISyncGate
{
    public static DirectGate Instance { get; } = new();

    public Task<ResumePoint?> StartAsync(IGatedReplica replica, CancellationToken stopping, CancellationToken cancellationToken) => Task.FromResult<ResumePoint?>(null);

    public async Task<ResumePoint?> ExchangeAsync(IGatedReplica replica, long step, SyncPhase phase, Func<Task> exchange, CancellationToken stopping, CancellationToken cancellationToken)
    {
        await exchange();
        return null;
    }

    public Task<ResumePoint?> RegroupAsync(IGatedReplica replica, long step, CancellationToken stopping, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("An in-process job's collectives do not fail a round; there is nothing to regroup.");

    public void StepCompleted(IGatedReplica replica, long step)
    {
    }
}
