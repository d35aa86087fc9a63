using System.Numerics.Tensors;
using DesLoc.Contract.Collectives;
using DesLoc.Contract.Wire;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.State;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// Shared plumbing: the collective, the ledger, a scratch buffer, the no-op defaults, and the DDP warm-up every
/// local method shares (<see cref="AlgorithmSpec.DdpWarmupSteps"/>). During the warm-up gradients are averaged every
/// step; at its last step the method starts from the identical replicas (<see cref="Initialize"/> again), and its own
/// schedule counts local steps from there: a derived class sees <c>localStep = step − warm-up</c> in every hook.
/// </summary>
/// <remarks>
/// Overlap (<see cref="OverlapSteps"/> = d, for the methods that build a <see cref="SyncRound"/>): at a sync step t the
/// round snapshots what it sends into the strategy's own buffers and its transfer runs on a background task (float
/// arrays only, never the replica) while the replica trains on. After the optimizer step of t + d the transfer is awaited
/// and each synced state s is applied as a correction that keeps the local progress made meanwhile:
/// <c>s ← synced + (s_{t+d} − s_t)</c>, where synced is what the blocking round would have written at t (the mean for
/// DES-LOC; the new anchor, after the outer step on the mean pseudo-gradient of t, for DiLoCo, PALSGD and DCT momentum:
/// the delayed "eager" outer update). With d = 0 it is the blocking round, value for value. A round lands earlier when
/// the next step exchanges (a period change moved it closer) or training ends (<see cref="LandAsync"/>); its bytes are
/// recorded when it lands. Only a transfer that completed is ever applied: when it fails, nothing of it is kept, the
/// strategy's own state included, and the failure surfaces at the landing (the trainer's gate then rolls the replica
/// back to t and redoes the round with the survivors). Null is blocking: the round is awaited where it starts.
/// </remarks>
public abstract class SyncStrategy : ISyncStrategy
{
    protected SyncStrategy(ICollective collective, int parameterCount, int ddpWarmupSteps = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ddpWarmupSteps);
        DdpWarmupSteps = ddpWarmupSteps;
        Collective = collective;
        ParameterCount = parameterCount;
        int workers = collective is IShardedCollective sharded ? sharded.WorkersPerReplica : 1;
        Ledger = new CommunicationLedger(parameterCount, new JobTopology(collective.WorldSize, workers), collective.Rank);
        Scratch = new float[parameterCount];
    }

    private long _intraBytesRecorded;
    private InFlight? _inFlight;
    private readonly Dictionary<StateKind, float[]> _sent = [];

    public CommunicationLedger Ledger { get; }

    /// <summary>Steps trained as DDP before the method's own schedule starts.</summary>
    public int DdpWarmupSteps { get; }

    /// <summary>Steps a sync stays in flight before it is applied; null to block on it (see the remarks).</summary>
    public int? OverlapSteps { get; init; }

    /// <summary>The step after whose optimizer step the sync in flight will be applied, or null when none is.</summary>
    public long? LandsAt => _inFlight is { } flight ? flight.LandsAt + DdpWarmupSteps : null;

    protected ICollective Collective { get; }

    protected int ParameterCount { get; }

    protected float[] Scratch { get; }

    protected long PayloadBytes => (long)ParameterCount * sizeof(float);

    public virtual void Initialize(IReplicaState replica)
    {
    }

    public StepPlan Plan(long step) => InWarmup(step) ? StepPlan.Gradient : PlanLocal(step - DdpWarmupSteps);

    public ValueTask AfterBackwardAsync(long step, IReplicaState replica, CancellationToken cancellationToken) =>
        InWarmup(step)
            ? AverageAsync(StateKind.Grads, replica, cancellationToken)
            : AfterBackwardLocalAsync(step - DdpWarmupSteps, replica, cancellationToken);

    public void PseudoSync(long step, double learningRate, IReplicaState replica) =>
        PseudoSyncLocal(step - DdpWarmupSteps, learningRate, replica);

    public async ValueTask AfterStepAsync(long step, IReplicaState replica, CancellationToken cancellationToken)
    {
        Ledger.CountStep();
        if (step == DdpWarmupSteps && step > 0)
        {
            // DDP kept the replicas identical: the method starts from the shared model (an outer method's anchor).
            Initialize(replica);
        }
        else if (!InWarmup(step))
        {
            await SyncAfterStepAsync(step - DdpWarmupSteps, replica, cancellationToken);
        }
    }

    public bool ExchangesAt(long step, SyncPhase phase) =>
        InWarmup(step) ? phase == SyncPhase.AfterBackward : ExchangesAtLocal(step - DdpWarmupSteps, phase);

    /// <summary>The plan of a step after the warm-up, by its local step (1 = the first after the warm-up).</summary>
    protected virtual StepPlan PlanLocal(long localStep) => StepPlan.Gradient;

    protected virtual ValueTask AfterBackwardLocalAsync(long localStep, IReplicaState replica, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    protected virtual void PseudoSyncLocal(long localStep, double learningRate, IReplicaState replica) =>
        throw new InvalidOperationException($"{GetType().Name} never plans a pseudo-sync step.");

    /// <summary>Whether the method's own schedule exchanges at this phase of a local step.</summary>
    protected abstract bool ExchangesAtLocal(long localStep, SyncPhase phase);

    public virtual void ExportState(StateBundle bundle)
    {
        // A half-applied round cannot be stored: the trainer snapshots only at steps with nothing in flight.
        if (_inFlight is not null)
        {
            throw new InvalidOperationException($"A sync begun at local step {_inFlight.LandsAt - OverlapSteps} is still in flight.");
        }

        Ledger.ExportState(bundle);
        foreach ((string state, int period) in Periods)
        {
            bundle.SetLongs($"periods.{state}", period);
        }
    }

    public virtual void ImportState(StateBundle bundle)
    {
        _inFlight = null;
        Ledger.ImportState(bundle);
        Dictionary<string, int> periods = Periods.Keys.Where(k => bundle.Has($"periods.{k}")).ToDictionary(k => k, k => (int)bundle.Scalar($"periods.{k}"));
        if (periods.Count > 0 && CheckPeriods(periods) is null)
        {
            SetPeriods(periods);
        }
    }

    public abstract IReadOnlyDictionary<string, int> Periods { get; }

    public virtual string? CheckPeriods(IReadOnlyDictionary<string, int> periods)
    {
        if (periods.Count == 0)
        {
            return "No periods given.";
        }

        foreach ((string state, int period) in periods)
        {
            if (!Periods.ContainsKey(state))
            {
                return $"{GetType().Name} has no '{state}' period; it has {string.Join(", ", Periods.Keys)}.";
            }

            if (period < 1)
            {
                return $"The '{state}' period must be at least 1 (got {period}).";
            }

            if (OverlapSteps is { } delay && period <= delay)
            {
                return $"The '{state}' period must exceed sync.overlapSteps ({delay}), so that a sync lands before the next begins (got {period}).";
            }
        }

        return null;
    }

    public virtual void SetPeriods(IReadOnlyDictionary<string, int> periods) =>
        throw new InvalidOperationException($"{GetType().Name} has no adjustable periods.");

    /// <summary>
    /// The method's exchange after the optimizer step of a local step: lands a round in flight that is due, then begins
    /// the step's own round (<see cref="BeginSync"/>), blocking on it or leaving it in flight.
    /// </summary>
    protected virtual async ValueTask SyncAfterStepAsync(long localStep, IReplicaState replica, CancellationToken cancellationToken)
    {
        if (_inFlight is { } due && localStep >= due.LandsAt)
        {
            await LandAsync(replica, cancellationToken);
        }

        if (BeginSync(localStep, replica, cancellationToken) is not { } round)
        {
            return;
        }

        if (OverlapSteps is not { } delay)
        {
            await round.Transfer();
            Apply(round, replica, sent: null);
            return;
        }

        (StateKind Kind, float[] Values)[] sent = [.. round.Results.Select(r => (r.Kind, Snapshot(r.Kind, replica)))];
        _inFlight = new InFlight(localStep + delay, round, Task.Run(round.Transfer, cancellationToken), sent);
        if (delay == 0)
        {
            await LandAsync(replica, cancellationToken);
        }
    }

    /// <summary>
    /// Applies the sync in flight now (at its step, before a step that exchanges, or at the last step): awaits its
    /// transfer and, only if that completed, writes its result as a correction. Nothing in flight: nothing to do.
    /// </summary>
    public async ValueTask LandAsync(IReplicaState replica, CancellationToken cancellationToken)
    {
        if (_inFlight is not { } flight)
        {
            return;
        }

        try
        {
            await flight.Transfer.WaitAsync(cancellationToken);
        }
        finally
        {
            // Failed or not, the round is over: a failed one leaves the replica and the strategy's state as they were.
            _inFlight = null;
        }

        Apply(flight.Round, replica, flight.Sent);
    }

    /// <summary>The round a local step begins: its snapshot taken, its transfer not yet started. Null when the step does not sync.</summary>
    protected virtual SyncRound? BeginSync(long localStep, IReplicaState replica, CancellationToken cancellationToken) => null;

    /// <summary>
    /// One sync: <see cref="Transfer"/> moves the strategy's own buffers (no replica, no tensors: it may run in the
    /// background); <see cref="Complete"/>, once it finished, folds what arrived into the strategy's state and records the
    /// bytes; then each of <see cref="Results"/> holds the synced value of its state kind.
    /// </summary>
    protected sealed record SyncRound(Func<Task> Transfer, Action Complete, IReadOnlyList<(StateKind Kind, float[] Synced)> Results);

    private sealed record InFlight(long LandsAt, SyncRound Round, Task Transfer, (StateKind Kind, float[] Values)[] Sent);

    private void Apply(SyncRound round, IReplicaState replica, (StateKind Kind, float[] Values)[]? sent)
    {
        round.Complete();
        for (int i = 0; i < round.Results.Count; i++)
        {
            (StateKind kind, float[] synced) = round.Results[i];
            if (sent is null)
            {
                replica.CopyFrom(kind, synced);
                continue;
            }

            // s ← synced + (s_now − s_sent): the steps trained while the round was in flight are kept.
            replica.CopyTo(kind, Scratch);
            TensorPrimitives.Subtract(Scratch, sent[i].Values, Scratch);
            TensorPrimitives.Add(synced, Scratch, Scratch);
            replica.CopyFrom(kind, Scratch);
        }
    }

    /// <summary>Copies a state as it is sent into a buffer kept per state kind (one round is in flight at a time).</summary>
    private float[] Snapshot(StateKind kind, IReplicaState replica)
    {
        if (!_sent.TryGetValue(kind, out float[]? values))
        {
            values = new float[ParameterCount];
            _sent[kind] = values;
        }

        replica.CopyTo(kind, values);
        return values;
    }

    /// <summary>Replaces one state vector by its mean over the group (snapshot, exchange, apply).</summary>
    protected async ValueTask AverageAsync(StateKind kind, IReplicaState replica, CancellationToken cancellationToken)
    {
        replica.CopyTo(kind, Scratch);
        long wire = await Collective.AllReduceMeanAsync(Scratch, cancellationToken);
        replica.CopyFrom(kind, Scratch);
        RecordExchange(wire, (kind, PayloadBytes));
    }

    /// <summary>
    /// Records one exchange between replicas: its payload by kind and the inter-site wire bytes the collective
    /// returned, and, when the exchange was sharded over a replica's workers, the bytes its gather sent inside the replica.
    /// </summary>
    protected void RecordExchange(long interWireBytes, params (StateKind Kind, long PayloadBytes)[] parts) =>
        RecordExchange(interWireBytes, IntraBytesSent, parts);

    /// <summary>
    /// The same for an exchange whose gather inside the replica had sent <paramref name="intraBytesSentBy"/> in all when it
    /// finished (<see cref="IntraBytesSent"/> read then), for a round that records several exchanges after they all ran.
    /// </summary>
    protected void RecordExchange(long interWireBytes, long intraBytesSentBy, params (StateKind Kind, long PayloadBytes)[] parts)
    {
        Ledger.RecordFused(Tier.Inter, parts, interWireBytes);
        if (Collective is IShardedCollective)
        {
            long intra = intraBytesSentBy - _intraBytesRecorded;
            _intraBytesRecorded += intra;
            Ledger.RecordFused(Tier.Intra, parts, intra, countPayload: false);
        }
    }

    /// <summary>Bytes the sharded collective's gathers inside the replica have sent so far (0 unsharded).</summary>
    protected long IntraBytesSent => Collective is IShardedCollective sharded ? sharded.IntraBytesSent : 0;

    protected static bool IsMultiple(long step, int period) => step % period == 0;

    private bool InWarmup(long step) => step <= DdpWarmupSteps;
}
