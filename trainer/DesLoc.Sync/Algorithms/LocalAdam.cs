using DesLoc.Contract.Collectives;
using DesLoc.Sync.Accounting;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// Local Adam (K): local AdamW; every K steps parameters and both moments are averaged in one fused
/// all-reduce of 3·P values. 3/K model sizes per step. DES-LOC with Kx = Ku = Kv = K must match it exactly
/// (a test checks this: the two reach the same state by different code paths).
/// </summary>
public sealed class LocalAdam : SyncStrategy
{
    private int _period;
    private readonly float[] _fused;

    public LocalAdam(ICollective collective, int parameterCount, LocalAdamSettings settings, int ddpWarmupSteps = 0)
        : base(collective, parameterCount, ddpWarmupSteps)
    {
        _period = settings.Period;
        _fused = new float[3 * parameterCount];
    }

    protected override bool ExchangesAtLocal(long localStep, SyncPhase phase) => phase == SyncPhase.AfterStep && IsMultiple(localStep, _period);

    public override IReadOnlyDictionary<string, int> Periods => new Dictionary<string, int> { ["params"] = _period, ["m1"] = _period, ["m2"] = _period };

    public override string? CheckPeriods(IReadOnlyDictionary<string, int> periods) =>
        base.CheckPeriods(periods) ?? (periods.Values.Distinct().Count() == 1 ? null : "Local Adam syncs params, m1 and m2 together: give them one period.");

    public override void SetPeriods(IReadOnlyDictionary<string, int> periods) => _period = periods.Values.First();

    protected override async ValueTask SyncAfterStepAsync(long localStep, IReplicaState replica, CancellationToken cancellationToken)
    {
        if (!IsMultiple(localStep, _period))
        {
            return;
        }

        int p = ParameterCount;
        replica.CopyTo(StateKind.Params, _fused.AsSpan(0, p));
        replica.CopyTo(StateKind.M1, _fused.AsSpan(p, p));
        replica.CopyTo(StateKind.M2, _fused.AsSpan(2 * p, p));
        long wire = await Collective.AllReduceMeanAsync(_fused, cancellationToken);
        replica.CopyFrom(StateKind.Params, _fused.AsSpan(0, p));
        replica.CopyFrom(StateKind.M1, _fused.AsSpan(p, p));
        replica.CopyFrom(StateKind.M2, _fused.AsSpan(2 * p, p));
        RecordExchange(wire, (StateKind.Params, PayloadBytes), (StateKind.M1, PayloadBytes), (StateKind.M2, PayloadBytes));
    }
}
