using DesLoc.Contract.Collectives;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Math;
using DesLoc.Sync.State;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// What DiLoCo and PALSGD share: a global model (the anchor) moved by an outer Nesterov step on the averaged
/// pseudo-gradient every <see cref="OuterPeriod"/> steps, its state for heal and checkpoints, and its adjustable period.
/// </summary>
public abstract class OuterOptimizerStrategy(ICollective collective, int parameterCount, int period, double outerLr, double outerMomentum, int ddpWarmupSteps)
    : SyncStrategy(collective, parameterCount, ddpWarmupSteps)
{
    protected OuterNesterov Outer { get; } = new(parameterCount, outerLr, outerMomentum);

    protected int OuterPeriod { get; private set; } = period;

    public override IReadOnlyDictionary<string, int> Periods => new Dictionary<string, int> { ["outer"] = OuterPeriod };

    public override void SetPeriods(IReadOnlyDictionary<string, int> periods) => OuterPeriod = periods["outer"];

    public override void Initialize(IReplicaState replica) => replica.CopyTo(StateKind.Params, Outer.Anchor);

    public override void ExportState(StateBundle bundle)
    {
        base.ExportState(bundle);
        Outer.Export(bundle);
    }

    public override void ImportState(StateBundle bundle)
    {
        base.ImportState(bundle);
        Outer.Import(bundle);
    }

    /// <summary>The outer round: average the pseudo-gradient, step the anchor, adopt it.</summary>
    protected async ValueTask OuterStepAsync(IReplicaState replica, CancellationToken cancellationToken)
    {
        replica.CopyTo(StateKind.Params, Scratch);
        Outer.PseudoGradient(Scratch, Scratch);
        long wire = await Collective.AllReduceMeanAsync(Scratch, cancellationToken);
        RecordExchange(wire, (StateKind.PseudoGrad, PayloadBytes));
        Outer.Step(Scratch);
        replica.CopyFrom(StateKind.Params, Outer.Anchor);
    }
}
