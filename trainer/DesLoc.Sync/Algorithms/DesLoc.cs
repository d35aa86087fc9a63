using DesLoc.Sync.Accounting;
using DesLoc.Transport.Collectives;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// DES-LOC (Kx, Ku, Kv): local AdamW whose parameters, first moment and second moment are each averaged on
/// their own period. 1/Kx + 1/Ku + 1/Kv model sizes per step; with Ku = 3·Kx and Kv = 6·Kx that is 1.5/Kx,
/// half of Local Adam at the same Kx and 170x less than DDP at Kx = 256.
/// </summary>
/// <remarks>
/// Decisions: the raw second moment is averaged (it is linear in the EMA; averaging sqrt(v) would not be);
/// AdamW's bias correction uses its own update count, which is the same on every replica since each applies
/// one update per step, so averaged moments stay correctly de-biased. Bytes are counted per state, so a step
/// that is a multiple of all three periods counts three exchanges.
/// </remarks>
public sealed class DesLoc(ICollective collective, int parameterCount, DesLocSettings settings)
    : SyncStrategy(collective, parameterCount)
{
    public override bool ExchangesAt(long step, SyncPhase phase) =>
        phase == SyncPhase.AfterStep &&
        (IsMultiple(step, settings.Kx) || IsMultiple(step, settings.EffectiveKu) || IsMultiple(step, settings.EffectiveKv));

    protected override async ValueTask SyncAfterStepAsync(long step, IReplicaState replica, CancellationToken cancellationToken)
    {
        if (IsMultiple(step, settings.Kx))
        {
            await AverageAsync(StateKind.Params, replica, cancellationToken);
        }

        if (IsMultiple(step, settings.EffectiveKu))
        {
            await AverageAsync(StateKind.M1, replica, cancellationToken);
        }

        if (IsMultiple(step, settings.EffectiveKv))
        {
            await AverageAsync(StateKind.M2, replica, cancellationToken);
        }
    }
}
