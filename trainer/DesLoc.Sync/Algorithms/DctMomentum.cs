using DesLoc.Contract.Collectives;
using System.Numerics.Tensors;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Math;
using DesLoc.Sync.State;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// DCT momentum (H, chunk, topK, decay): DiLoCo whose outer Nesterov momentum is the only shared state, and
/// only in part. Every H steps each replica folds its pseudo-gradient into its momentum, transforms it with a
/// chunked orthonormal DCT-II, sends the top-k coefficients per chunk (an all-gather of indices and values)
/// and replaces them with the group mean; the other coefficients stay local as residual. Then
/// <c>anchor -= outerLr·(delta + decay·momentum)</c> and the replica adopts its anchor.
/// </summary>
/// <remarks>
/// Decisions: (1) the pseudo-gradient is not averaged, as in the authors' code (exalsius/diloco-training); the
/// byte saving over DiLoCo rests on that, and replicas are coupled only through the shared coefficients, so
/// they do not hold identical parameters. (2) A coefficient's group value is the sum of the values sent for it
/// divided by the world size (mean over all replicas), not by the number of replicas that picked it as the
/// reference does: each replica removes what it sent, so the group's total momentum is conserved exactly,
/// whereas the mean over pickers applies a coefficient picked by one replica at full value on all of them.
/// With topK = chunk this is exactly dense momentum averaging.
/// </remarks>
public sealed class DctMomentum : SyncStrategy
{
    private readonly DctSettings _settings;
    private readonly ChunkedDct _dct;
    private readonly SparseChunkCoefficients _codec;
    private readonly float[] _anchor;
    private readonly float[] _momentum;
    private readonly float[] _delta;
    private readonly float[] _coefficients;
    private readonly byte[] _payload;
    private int _period;

    public DctMomentum(ICollective collective, int parameterCount, DctSettings settings, int ddpWarmupSteps = 0)
        : base(collective, parameterCount, ddpWarmupSteps)
    {
        _settings = settings;
        _dct = new ChunkedDct(settings.Chunk);
        int padded = checked((int)_dct.PaddedLength(parameterCount));
        _codec = new SparseChunkCoefficients(settings.Chunk, settings.TopK, padded / settings.Chunk);
        _anchor = new float[parameterCount];
        _momentum = new float[padded];
        _delta = new float[padded];
        _coefficients = new float[padded];
        _payload = new byte[_codec.PayloadBytes];
        _period = settings.Period;
    }

    public override IReadOnlyDictionary<string, int> Periods => new Dictionary<string, int> { ["outer"] = _period };

    public override void SetPeriods(IReadOnlyDictionary<string, int> periods) => _period = periods["outer"];

    /// <summary>This replica's outer momentum (padded to whole chunks).</summary>
    internal ReadOnlySpan<float> Momentum => _momentum;

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

    protected override async ValueTask SyncAfterStepAsync(long localStep, IReplicaState replica, CancellationToken cancellationToken)
    {
        if (!IsMultiple(localStep, _period))
        {
            return;
        }

        float decay = (float)_settings.Decay;
        replica.CopyTo(StateKind.Params, Scratch);
        Span<float> delta = _delta.AsSpan(0, ParameterCount);
        TensorPrimitives.Subtract(_anchor, Scratch, delta);
        TensorPrimitives.MultiplyAdd(_momentum, decay, _delta, _momentum);
        _dct.Forward(_momentum, _coefficients);
        _codec.Extract(_coefficients, _payload);

        GatherResult gathered = await Collective.AllGatherAsync(_payload, cancellationToken);

        float share = 1f / Collective.WorldSize;
        foreach (ReadOnlyMemory<byte> payload in gathered.Payloads)
        {
            _codec.AddScaled(payload.Span, share, _coefficients);
        }

        _dct.Inverse(_coefficients, _momentum);
        float lr = (float)_settings.OuterLr;
        for (int i = 0; i < ParameterCount; i++)
        {
            _anchor[i] -= lr * (_delta[i] + decay * _momentum[i]);
        }

        replica.CopyFrom(StateKind.Params, _anchor);
        RecordExchange(gathered.BytesSent, (StateKind.Dct, _codec.PayloadBytes));
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
