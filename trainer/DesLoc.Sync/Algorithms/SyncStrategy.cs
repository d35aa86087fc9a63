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

    public CommunicationLedger Ledger { get; }

    /// <summary>Steps trained as DDP before the method's own schedule starts.</summary>
    public int DdpWarmupSteps { get; }

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
        Ledger.ExportState(bundle);
        foreach ((string state, int period) in Periods)
        {
            bundle.SetLongs($"periods.{state}", period);
        }
    }

    public virtual void ImportState(StateBundle bundle)
    {
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
        }

        return null;
    }

    public virtual void SetPeriods(IReadOnlyDictionary<string, int> periods) =>
        throw new InvalidOperationException($"{GetType().Name} has no adjustable periods.");

    /// <summary>The method's exchange after the optimizer step of a local step.</summary>
    protected virtual ValueTask SyncAfterStepAsync(long localStep, IReplicaState replica, CancellationToken cancellationToken) => ValueTask.CompletedTask;

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
    protected void RecordExchange(long interWireBytes, params (StateKind Kind, long PayloadBytes)[] parts)
    {
        Ledger.RecordFused(Tier.Inter, parts, interWireBytes);
        if (Collective is IShardedCollective sharded)
        {
            long intra = sharded.IntraBytesSent - _intraBytesRecorded;
            _intraBytesRecorded += intra;
            Ledger.RecordFused(Tier.Intra, parts, intra, countPayload: false);
        }
    }

    protected static bool IsMultiple(long step, int period) => step % period == 0;

    private bool InWarmup(long step) => step <= DdpWarmupSteps;
}
