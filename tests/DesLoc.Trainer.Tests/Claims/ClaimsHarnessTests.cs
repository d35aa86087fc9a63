using DesLoc.Bench;
using DesLoc.Bench.Fair;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.Math;
using DesLoc.Contract.Collectives;
using DesLoc.Trainer.Models;
using DesLoc.Transport.Collectives;

namespace DesLoc.Trainer.Tests.Claims;

/// <summary>
/// The quick CI variant of bench/claims.sh: every arm of the harness's grid, once, on a tiny model, asserting only what
/// is deterministic: the cross-site bytes of every arm equal the formulas (warm-up, periods, wire formats, DCT's index
/// encoding), the warm-up's bytes come apart, PALSGD's stretched run draws the others' tokens, and a seeded run is
/// reproducible bit for bit. Summed over ranks a ring all-reduce of n values sends exactly 2(R−1)·n values and a ring
/// all-gather of p bytes each R(R−1)·p bytes, however the chunks split, so totals are exact.
/// </summary>
[Collection("TorchSharp")]
public sealed class ClaimsHarnessTests
{
    private const int K = 2;
    private const int Warmup = 4;
    private const int LocalSteps = 24 * K;   // the 4K arms' Kv = 24K: every arm ends on a sync of all its state
    private const int R = Source.Replicas;

    private static readonly Source s_tiny = new("tiny", new DataSpec { Synthetic = new SyntheticSpec { Vocab = 8, Order = 1 } },
        new ModelSpec { Layers = 1, Dim = 16, Heads = 2, Context = 8 }, BatchSize: 4);

    private static readonly Lazy<Task<Dictionary<Arm, Trial>>> s_runs = new(RunAllAsync);

    public static TheoryData<string> ArmNames => [.. ComparisonGrid.Arms(K, Warmup).Select(a => a.Name)];

    [Theory]
    [MemberData(nameof(ArmNames))]
    public async Task EveryArm_SendsExactlyWhatItsFormulaSays(string name)
    {
        (Arm arm, Trial trial) = (await s_runs.Value).Single(r => r.Key.Name == name);
        long p = ParameterCount(trial);
        IReadOnlyList<long[]> shapes = LanguageModels.ParameterShapes(TrialRunner.Spec(s_tiny, arm, Warmup, LocalSteps, 1e-2, 0.7, seed: 1));

        Assert.Equal(ExpectedTotalWireBytes(arm, p, shapes), trial.Ledgers.Sum(l => l.TotalWireBytes));
    }

    [Fact]
    public async Task WarmupBytes_AreTheWarmupsGradients_ForEveryLocalMethod()
    {
        foreach ((Arm arm, Trial trial) in (await s_runs.Value).Where(r => r.Key.Algorithm.Type != AlgorithmType.DDP))
        {
            Assert.Equal(Warmup * AllReduce(ParameterCount(trial), BytesPerValue(arm.Compression)), trial.Ledgers.Sum(l => l.WireBytes[StateKind.Grads]));
        }
    }

    [Fact]
    public async Task Palsgd_StretchedToEqualTokens_DrawsAboutWhatTheOthersDraw()
    {
        var runs = await s_runs.Value;
        Trial palsgd = runs.Single(r => r.Key.Algorithm.Type == AlgorithmType.PALSGD).Value;
        Trial localAdam = runs.First(r => r.Key.Algorithm.Type == AlgorithmType.LocalAdam).Value;

        Assert.Equal((long)(Warmup + LocalSteps) * R * s_tiny.BatchSize * s_tiny.Model.Context, localAdam.Tokens);
        Assert.InRange(palsgd.Tokens / (double)localAdam.Tokens, 0.9, 1.1);
        Assert.True(palsgd.Arm.LocalSteps(LocalSteps) > LocalSteps);
        Assert.Equal(0, palsgd.Arm.LocalSteps(LocalSteps) % K);
    }

    [Fact]
    public async Task SeededRun_IsReproducibleBitForBit()
    {
        Arm desloc = ComparisonGrid.Arms(K, Warmup).First(a => a.Algorithm.Type == AlgorithmType.DESLOC);

        Trial first = await TrialRunner.RunAsync(s_tiny, desloc, Warmup, LocalSteps, 1e-2, double.NaN, seed: 3);
        Trial second = await TrialRunner.RunAsync(s_tiny, desloc, Warmup, LocalSteps, 1e-2, double.NaN, seed: 3);
        Trial otherSeed = await TrialRunner.RunAsync(s_tiny, desloc, Warmup, LocalSteps, 1e-2, double.NaN, seed: 4);

        Assert.Equal(BitConverter.DoubleToInt64Bits(first.Validation), BitConverter.DoubleToInt64Bits(second.Validation));
        Assert.Equal(BitConverter.DoubleToInt64Bits(first.Test), BitConverter.DoubleToInt64Bits(second.Test));
        Assert.Equal(first.Ledgers, second.Ledgers, (a, b) => a.Steps == b.Steps && a.WireBytes.SequenceEqual(b.WireBytes) && a.PayloadBytes.SequenceEqual(b.PayloadBytes));
        Assert.NotEqual(first.Test, otherSeed.Test);
    }

    [Fact]
    public void Interval_IsTheStudentTIntervalOfThePairedDifferences()
    {
        Interval diff = Interval.Paired([1.0, 2.0, 4.0], [0.5, 1.0, 2.5]);   // differences 0.5, 1, 1.5: mean 1, sd 0.5

        Assert.Equal(1.0, diff.Mean, 12);
        Assert.Equal(4.303 * 0.5 / Math.Sqrt(3), diff.HalfWidth, 12);
        Assert.False(diff.Inside(1.0));
        Assert.True(Interval.Paired([1.0, 1.01, 0.99], [1.0, 1.0, 1.0]).Inside(0.05));
    }

    private static long ParameterCount(Trial trial) => trial.Ledgers[0].DdpEquivalentPayloadBytes / trial.Ledgers[0].Steps / sizeof(float);

    /// <summary>Bytes all R ranks send together in one ring all-reduce of n values.</summary>
    private static long AllReduce(long n, double bytesPerValue) => (long)(2L * (R - 1) * n * bytesPerValue);

    /// <summary>Bytes a state value (parameters, moments, gradients) takes: float32, or bf16 under bf16 and int8 compression.</summary>
    private static double BytesPerValue(string compression) => compression == SyncSpec.NoCompression ? 4 : 2;

    /// <summary>A pseudo-gradient all-reduce of n values summed over ranks: int8 blocks (a scale per 256) per ring message under int8.</summary>
    private static long PseudoGradientAllReduce(long n, string compression) => compression == SyncSpec.Int8Compression
        ? Enumerable.Range(0, R).Sum(rank => RingTraffic.AllReduceBytes(n, WireFormat.BlockInt8.EncodedBytes, R, rank))
        : AllReduce(n, BytesPerValue(compression));

    private static long ExpectedTotalWireBytes(Arm arm, long p, IReadOnlyList<long[]> shapes)
    {
        double b = BytesPerValue(arm.Compression);
        long local = arm.LocalSteps(LocalSteps);
        long warmup = Warmup * AllReduce(p, b);
        AlgorithmSpec a = arm.Algorithm;
        return a.Type switch
        {
            AlgorithmType.DDP => (Warmup + local) * AllReduce(p, b),
            AlgorithmType.LocalAdam => warmup + (local / a.LocalAdam.Period * AllReduce(3 * p, b)),
            AlgorithmType.DESLOC => warmup + ((local / a.Desloc.Kx) + (local / a.Desloc.EffectiveKu) + (local / a.Desloc.EffectiveKv)) * AllReduce(p, b),
            AlgorithmType.DiLoCo => warmup + (local / a.Diloco.Period * PseudoGradientAllReduce(p, arm.Compression)),
            AlgorithmType.PALSGD => warmup + (local / a.Palsgd.Period * PseudoGradientAllReduce(p, arm.Compression)),
            // An all-gather of every replica's top-k per block (indices as wide as the block needs): R(R−1) payloads.
            AlgorithmType.DCTMomentum => warmup + (local / a.Dct.Period * R * (R - 1) * SparseBlockCoefficients.PayloadBytesOf(DctMomentum.LayoutOf(a.Dct, shapes), a.Dct.TopK)),
            _ => throw new ArgumentOutOfRangeException(nameof(arm), a.Type, "No formula for this method."),
        };
    }

    private static async Task<Dictionary<Arm, Trial>> RunAllAsync()
    {
        var runs = new Dictionary<Arm, Trial>();
        foreach (Arm arm in ComparisonGrid.Arms(K, Warmup))
        {
            runs[arm] = await TrialRunner.RunAsync(s_tiny, arm, Warmup, LocalSteps, 1e-2, 0.7, seed: 1);
        }

        return runs;
    }
}
