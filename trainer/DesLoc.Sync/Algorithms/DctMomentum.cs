using DesLoc.Contract.Collectives;
using System.Numerics.Tensors;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Math;
using DesLoc.Sync.State;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// DCT momentum (H, chunk, topK, decay): DiLoCo whose outer Nesterov momentum is the only shared state, and
/// only in part. Every H steps each replica folds its pseudo-gradient into its momentum, transforms it block by block
/// with an orthonormal DCT-II (<see cref="TensorBlockLayout"/>: by default each tensor in blocks of up to 64 x 64, as
/// the paper), sends the top-k coefficients per block (an all-gather of indices and values) and replaces them with the
/// group mean; the other coefficients stay local as residual. Then <c>anchor -= outerLr·(delta + decay·momentum)</c>
/// and the replica adopts its anchor.
/// </summary>
/// <remarks>
/// Decisions: (1) the pseudo-gradient is not averaged, as in the authors' code (exalsius/diloco-training); the
/// byte saving over DiLoCo rests on that, and replicas are coupled only through the shared coefficients, so
/// they do not hold identical parameters. (2) A coefficient's group value is the sum of the values sent for it
/// divided by the world size (mean over all replicas), not by the number of replicas that picked it as the
/// reference does: each replica removes what it sent, so the group's total momentum is conserved exactly,
/// whereas the mean over pickers applies a coefficient picked by one replica at full value on all of them.
/// With topK = a whole block this is exactly dense momentum averaging. (3) Indices take as few bytes as a block
/// needs (1 for 16 x 16, 2 for 64 x 64) instead of the reference's int64; <see cref="PaperBytesPerSync"/> gives the
/// reference's own count for comparison.
/// </remarks>
public sealed class DctMomentum : SyncStrategy
{
    private readonly DctSettings _settings;
    private readonly TensorBlockLayout _layout;
    private readonly TensorBlockDct _dct;
    private readonly SparseBlockCoefficients _codec;
    private readonly float[] _anchor;
    private readonly float[] _momentum;
    private readonly float[] _delta;
    private readonly float[] _coefficients;
    private readonly byte[] _payload;
    private int _period;

    /// <summary>DCT momentum for parameters that are tensors of <paramref name="shapes"/>, in the order of the replica's flat vectors.</summary>
    public DctMomentum(ICollective collective, IReadOnlyList<long[]> shapes, DctSettings settings, int ddpWarmupSteps = 0)
        : base(collective, checked((int)TensorBlockLayout.ElementCount(shapes)), ddpWarmupSteps)
    {
        _settings = settings;
        _layout = LayoutOf(settings, shapes);
        _dct = new TensorBlockDct(_layout);
        _codec = new SparseBlockCoefficients(_layout, settings.TopK);
        _anchor = new float[ParameterCount];
        _momentum = new float[_layout.Length];
        _delta = new float[_layout.Length];
        _coefficients = new float[_layout.Length];
        _payload = new byte[_codec.PayloadBytes];
        _period = settings.Period;
    }

    /// <summary>The blocks these settings cut tensors of these shapes into.</summary>
    public static TensorBlockLayout LayoutOf(DctSettings settings, IReadOnlyList<long[]> shapes) => settings.Blocks == DctSettings.FlatBlocks
        ? TensorBlockLayout.Flat(TensorBlockLayout.ElementCount(shapes), settings.Chunk)
        : TensorBlockLayout.PerTensor(shapes, settings.Chunk);

    /// <summary>
    /// What the reference code (exalsius/diloco-training) counts for one sync of this layout over <paramref name="world"/>
    /// replicas: <c>nbytes = (W + 1)·k·(8 B int64 index + 4 B value)</c> per block (its own payload plus the W it gathers),
    /// reported as <c>2·nbytes·(W − 1)/W</c>. Our ledger records the wire bytes the all-gather actually sends instead.
    /// </summary>
    public static double PaperBytesPerSync(TensorBlockLayout layout, int topK, int world)
    {
        long kept = layout.Regions.Sum(r => (long)r.BlockCount * SparseBlockCoefficients.KeptOf(r, topK));
        double nbytes = (world + 1) * kept * (sizeof(long) + sizeof(float));
        return 2 * nbytes * (world - 1) / world;
    }

    public override IReadOnlyDictionary<string, int> Periods => new Dictionary<string, int> { ["outer"] = _period };

    public override void SetPeriods(IReadOnlyDictionary<string, int> periods) => _period = periods["outer"];

    /// <summary>This replica's outer momentum, in parameter order (a copy without the layout's padding).</summary>
    internal float[] Momentum()
    {
        float[] momentum = new float[ParameterCount];
        _layout.Gather(_momentum, momentum);
        return momentum;
    }

    public override void Initialize(IReplicaState replica) => replica.CopyTo(StateKind.Params, _anchor);

    protected override bool ExchangesAtLocal(long localStep, SyncPhase phase) => phase == SyncPhase.AfterStep && IsMultiple(localStep, _period);

    public override void ExportState(StateBundle bundle)
    {
        base.ExportState(bundle);
        bundle.SetFloats("dct.anchor", _anchor);
        bundle.SetFloats("dct.momentum", _momentum);
    }

    public override void ImportState(StateBundle bundle)
    {
        base.ImportState(bundle);
        CopyExact(bundle.Floats("dct.anchor"), _anchor);
        CopyExact(bundle.Floats("dct.momentum"), _momentum);
    }

    protected override SyncRound? BeginSync(long localStep, IReplicaState replica, CancellationToken cancellationToken)
    {
        if (!IsMultiple(localStep, _period))
        {
            return null;
        }

        float decay = (float)_settings.Decay;
        replica.CopyTo(StateKind.Params, Scratch);
        TensorPrimitives.Subtract(_anchor, Scratch, Scratch);
        _layout.Scatter(Scratch, _delta);
        TensorPrimitives.MultiplyAdd(_momentum, decay, _delta, _momentum);
        _dct.Forward(_momentum, _coefficients);
        _codec.Extract(_coefficients, _payload);

        GatherResult? gathered = null;
        return new SyncRound(
            async () => gathered = await Collective.AllGatherAsync(_payload, cancellationToken),
            () =>
            {
                float share = 1f / Collective.WorldSize;
                foreach (ReadOnlyMemory<byte> payload in gathered!.Payloads)
                {
                    _codec.AddScaled(payload.Span, share, _coefficients);
                }

                _dct.Inverse(_coefficients, _momentum);
                TensorPrimitives.MultiplyAdd(_momentum, decay, _delta, _coefficients);   // the Nesterov step, padding included
                _layout.Gather(_coefficients, Scratch);
                TensorPrimitives.MultiplyAdd(Scratch, -(float)_settings.OuterLr, _anchor, _anchor);
                RecordExchange(gathered.BytesSent, (StateKind.Dct, _codec.PayloadBytes));
            },
            [(StateKind.Params, _anchor)]);
    }

    private static void CopyExact(float[] source, float[] target)
    {
        if (source.Length != target.Length)
        {
            throw new InvalidDataException($"DCT state has {source.Length} values, this replica needs {target.Length}.");
        }

        source.CopyTo(target, 0);
    }
}
