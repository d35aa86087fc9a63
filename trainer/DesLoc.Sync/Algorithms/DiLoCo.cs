using DesLoc.Sync.Accounting;
using DesLoc.Sync.Math;
using DesLoc.Sync.State;
using DesLoc.Transport.Collectives;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// DiLoCo (H): local AdamW; every H steps the pseudo-gradient (anchor − params) is averaged and an outer
/// Nesterov SGD step (lr 0.7, momentum 0.9 by default) moves the anchor, which every replica then adopts.
/// The inner AdamW moments stay local: neither reset nor averaged. 1/H model sizes per step.
/// </summary>
public sealed class DiLoCo(ICollective collective, int parameterCount, DiLoCoSettings settings)
    : SyncStrategy(collective, parameterCount)
{
    private readonly OuterNesterov _outer = new(parameterCount, settings.OuterLr, settings.OuterMomentum);
    private int _period = settings.Period;

    public override IReadOnlyDictionary<string, int> Periods => new Dictionary<string, int> { ["outer"] = _period };

    public override void SetPeriods(IReadOnlyDictionary<string, int> periods) => _period = periods["outer"];

    public override void Initialize(IReplicaState replica) => replica.CopyTo(StateKind.Params, _outer.Anchor);

    public override bool ExchangesAt(long step, SyncPhase phase) => phase == SyncPhase.AfterStep && IsMultiple(step, _period);

    public override void ExportState(StateBundle bundle)
    {
        base.ExportState(bundle);
        _outer.Export(bundle);
    }

    public override void ImportState(StateBundle bundle)
    {
        base.ImportState(bundle);
        _outer.Import(bundle);
    }

    protected override async ValueTask SyncAfterStepAsync(long step, IReplicaState replica, CancellationToken cancellationToken)
    {
        if (IsMultiple(step, _period))
        {
            await OuterStepAsync(_outer, replica, cancellationToken);
        }
    }
}
