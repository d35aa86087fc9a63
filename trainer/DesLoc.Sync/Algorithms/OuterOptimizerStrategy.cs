using System.Numerics.Tensors;
using DesLoc.Contract.Collectives;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Math;
using DesLoc.Sync.State;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// What DiLoCo and PALSGD share: a global model (the anchor) moved by an outer Nesterov step on the averaged
/// pseudo-gradient every <see cref="OuterPeriod"/> steps, its state for heal and checkpoints, and its adjustable period.
/// The pseudo-gradient travels with error feedback (<see cref="ICollective.AllReduceMeanFedBackAsync"/>): this replica
/// sends its pseudo-gradient plus its residual, and the residual becomes what the wire lost of it (its own rounding,
/// the partial sums it forwarded and the mean of the chunk it owns), so over rounds the anchor moves by the sum of the
/// true pseudo-gradients give or take one residual. Zero with float32, where nothing is lost.
/// </summary>
public abstract class OuterOptimizerStrategy(ICollective collective, int parameterCount, int period, double outerLr, double outerMomentum, int ddpWarmupSteps)
    : SyncStrategy(collective, parameterCount, ddpWarmupSteps)
{
    protected OuterNesterov Outer { get; } = new(parameterCount, outerLr, outerMomentum);

    private const string ResidualKey = "outer.residual";

    private readonly float[] _residual = new float[parameterCount];

    private readonly float[] _outgoing = new float[parameterCount];

    protected int OuterPeriod { get; private set; } = period;

    public override IReadOnlyDictionary<string, int> Periods => new Dictionary<string, int> { ["outer"] = OuterPeriod };

    public override void SetPeriods(IReadOnlyDictionary<string, int> periods) => OuterPeriod = periods["outer"];

    public override void Initialize(IReplicaState replica) => replica.CopyTo(StateKind.Params, Outer.Anchor);

    public override void ExportState(StateBundle bundle)
    {
        base.ExportState(bundle);
        Outer.Export(bundle);
        bundle.SetFloats(ResidualKey, _residual);
    }

    public override void ImportState(StateBundle bundle)
    {
        base.ImportState(bundle);
        Outer.Import(bundle);
        // A bundle written before error feedback existed has no residual: nothing lost yet.
        float[] residual = bundle.Has(ResidualKey) ? bundle.Floats(ResidualKey) : new float[_residual.Length];
        if (residual.Length != _residual.Length)
        {
            throw new InvalidDataException($"The pseudo-gradient residual has {residual.Length} values, this replica needs {_residual.Length}.");
        }

        residual.CopyTo(_residual, 0);
    }

    /// <summary>
    /// The outer round: average the pseudo-gradient of now (its residual added, then fed back), step the anchor, adopt
    /// it. The pseudo-gradient travels in a buffer of its own, so the round may stay in flight while the replica trains.
    /// </summary>
    protected SyncRound BeginOuterSync(IReplicaState replica, CancellationToken cancellationToken)
    {
        replica.CopyTo(StateKind.Params, _outgoing);
        Outer.PseudoGradient(_outgoing, _outgoing);
        TensorPrimitives.Add(_outgoing, _residual, _outgoing);
        Array.Clear(_residual);
        long wire = 0;
        return new SyncRound(
            async () => wire = await Collective.AllReduceMeanFedBackAsync(_outgoing, _residual, cancellationToken),
            () =>
            {
                RecordExchange(wire, (StateKind.PseudoGrad, PayloadBytes));
                Outer.Step(_outgoing);
            },
            [(StateKind.Params, Outer.Anchor)]);
    }
}
