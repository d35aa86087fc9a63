using DesLoc.Contract.Collectives;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// DiLoCo (H): local AdamW; every H steps the pseudo-gradient (anchor − params) is averaged and an outer
/// Nesterov SGD step (lr 0.7, momentum 0.9 by default) moves the anchor, which every replica then adopts.
/// The inner AdamW moments stay local: neither reset nor averaged. 1/H model sizes per step.
/// </summary>
public sealed class DiLoCo(ICollective collective, int parameterCount, DiLoCoSettings settings, int ddpWarmupSteps = 0)
    : OuterOptimizerStrategy(collective, parameterCount, settings.Period, settings.OuterLr, settings.OuterMomentum, ddpWarmupSteps)
{
    protected override bool ExchangesAtLocal(long localStep, SyncPhase phase) => phase == SyncPhase.AfterStep && IsMultiple(localStep, OuterPeriod);

    protected override SyncRound? BeginSync(long localStep, IReplicaState replica, CancellationToken cancellationToken) =>
        IsMultiple(localStep, OuterPeriod) ? BeginOuterSync(replica, cancellationToken) : null;
}
