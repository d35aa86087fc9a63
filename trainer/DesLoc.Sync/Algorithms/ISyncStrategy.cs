using DesLoc.Sync.Accounting;
using DesLoc.Sync.State;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// Decides, step by step, what one replica exchanges. The training loop drives it:
/// <code>
/// plan = Plan(t)
/// if plan.TakesGradientStep: forward, backward; await AfterBackwardAsync(t); optimizer step at lr·plan.LearningRateScale
/// else:                      PseudoSync(t, lr)
/// await AfterStepAsync(t)
/// </code>
/// Steps count from 1. Periodic syncs happen after the optimizer step of every step that is a multiple of the
/// period (the convention of the unofficial DES-LOC ports; the zij notes average just before the update, which
/// is the same up to a one-step shift). Syncing after the step means replicas hold identical state right after
/// each sync, so Local Adam with K = 1 keeps replicas identical and a sync step is a consistent checkpoint.
/// </summary>
public interface ISyncStrategy
{
    CommunicationLedger Ledger { get; }

    /// <summary>Called once before step 1 with the replica's initial state.</summary>
    void Initialize(IReplicaState replica);

    /// <summary>
    /// What the replica does at <paramref name="step"/>: a pure function of (seed, rank, step), since the trainer
    /// recomputes from it how many batches a replica has drawn by a step (after a heal from a peer, for one).
    /// </summary>
    StepPlan Plan(long step);

    ValueTask AfterBackwardAsync(long step, IReplicaState replica, CancellationToken cancellationToken);

    void PseudoSync(long step, double learningRate, IReplicaState replica);

    ValueTask AfterStepAsync(long step, IReplicaState replica, CancellationToken cancellationToken);

    /// <summary>
    /// With overlap (<c>sync.overlapSteps</c>): the step after whose optimizer step the sync in flight is applied, or null
    /// when none is. While one is, the trainer steps on without the gate, and snapshots nothing.
    /// </summary>
    long? LandsAt { get; }

    /// <summary>Applies the sync in flight now, before its step (the next step exchanges, or training ends); a no-op when none is.</summary>
    ValueTask LandAsync(IReplicaState replica, CancellationToken cancellationToken);

    /// <summary>Whether the given phase of the step calls the collective: only those phases form a quorum.</summary>
    bool ExchangesAt(long step, SyncPhase phase);

    /// <summary>Adds the strategy's own state (anchor, outer momentum, DCT momentum, byte counters) to a bundle.</summary>
    void ExportState(StateBundle bundle);

    void ImportState(StateBundle bundle);

    /// <summary>Steps between syncs, by state label (params, m1, m2, outer, grads), as <c>desloc_sync_period{state}</c> reports them.</summary>
    IReadOnlyDictionary<string, int> Periods { get; }

    /// <summary>Why a period change cannot be applied, or null when it can.</summary>
    string? CheckPeriods(IReadOnlyDictionary<string, int> periods);

    /// <summary>Applies a change that <see cref="CheckPeriods"/> accepted; every replica does so at the same step.</summary>
    void SetPeriods(IReadOnlyDictionary<string, int> periods);
}

/// <summary>Where in a step a strategy may exchange: after the backward pass, or after the optimizer step.</summary>
public enum SyncPhase
{
    AfterBackward = 1,
    AfterStep = 2,
}

/// <summary>What a replica does at one step.</summary>
public readonly record struct StepPlan(bool TakesGradientStep, double LearningRateScale)
{
    public static StepPlan Gradient { get; } = new(true, 1.0);
}
