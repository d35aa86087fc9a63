using DesLoc.Contract.Collectives;
using DesLoc.Sync.Accounting;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// The baseline: all-reduce the gradients after every backward pass, before clipping and the optimizer step,
/// so every replica applies the same update and stays identical. One model-size exchange per step.
/// </summary>
public sealed class Ddp(ICollective collective, int parameterCount) : SyncStrategy(collective, parameterCount)
{
    protected override ValueTask AfterBackwardLocalAsync(long localStep, IReplicaState replica, CancellationToken cancellationToken) =>
        AverageAsync(StateKind.Grads, replica, cancellationToken);

    protected override bool ExchangesAtLocal(long localStep, SyncPhase phase) => phase == SyncPhase.AfterBackward;

    public override IReadOnlyDictionary<string, int> Periods { get; } = new Dictionary<string, int> { ["grads"] = 1 };

    public override string? CheckPeriods(IReadOnlyDictionary<string, int> periods) => "DDP exchanges gradients every step; it has no period to change.";
}
