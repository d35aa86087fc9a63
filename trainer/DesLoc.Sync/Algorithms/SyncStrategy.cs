using DesLoc.Contract.Collectives;
using DesLoc.Contract.Wire;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.State;

namespace DesLoc.Sync.Algorithms;

/// <summary>Shared plumbing: the collective, the ledger, a scratch buffer and the no-op defaults.</summary>
public abstract class SyncStrategy : ISyncStrategy
{
    protected SyncStrategy(ICollective collective, int parameterCount)
    {
        Collective = collective;
        ParameterCount = parameterCount;
        int workers = collective is IShardedCollective sharded ? sharded.WorkersPerReplica : 1;
        Ledger = new CommunicationLedger(parameterCount, new JobTopology(collective.WorldSize, workers), collective.Rank);
        Scratch = new float[parameterCount];
    }

    private long _intraBytesRecorded;

    public CommunicationLedger Ledger { get; }

    protected ICollective Collective { get; }

    protected int ParameterCount { get; }

    protected float[] Scratch { get; }

    protected long PayloadBytes => (long)ParameterCount * sizeof(float);

    public virtual void Initialize(IReplicaState replica)
    {
    }

    public virtual StepPlan Plan(long step) => StepPlan.Gradient;

    public virtual ValueTask AfterBackwardAsync(long step, IReplicaState replica, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public virtual void PseudoSync(long step, double learningRate, IReplicaState replica) =>
        throw new InvalidOperationException($"{GetType().Name} never plans a pseudo-sync step.");

    public async ValueTask AfterStepAsync(long step, IReplicaState replica, CancellationToken cancellationToken)
    {
        Ledger.CountStep();
        await SyncAfterStepAsync(step, replica, cancellationToken);
    }

    public abstract bool ExchangesAt(long step, SyncPhase phase);

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

    protected virtual ValueTask SyncAfterStepAsync(long step, IReplicaState replica, CancellationToken cancellationToken) => ValueTask.CompletedTask;

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
}
