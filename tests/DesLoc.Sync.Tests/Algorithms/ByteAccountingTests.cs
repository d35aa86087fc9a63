using DesLoc.Contract.Collectives;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;

namespace DesLoc.Sync.Tests.Algorithms;

/// <summary>
/// Byte counters against the analytic formulas, over a run whose length is a multiple of every period.
/// P = 1000 parameters (4000 payload bytes per model-size exchange), W = 4 replicas, T = 120 steps.
/// </summary>
public sealed class ByteAccountingTests
{
    private const int P = 1000;
    private const int W = 4;
    private const int T = 120;
    private const long ModelBytes = P * sizeof(float);

    private static long Ring(long elements, int rank) => RingTraffic.AllReduceBytes(elements, sizeof(float), W, rank);

    [Fact]
    public async Task Ddp_SendsOneGradientPerStep_ExactlyTheDdpEquivalent()
    {
        var (strategies, _) = await StrategyHarness.RunAsync(new AlgorithmSpec { Type = AlgorithmType.DDP }, W, P, T);

        foreach (ISyncStrategy strategy in strategies)
        {
            LedgerSnapshot ledger = strategy.Ledger.Snapshot();
            Assert.Equal(T * ModelBytes, ledger.PayloadBytes[StateKind.Grads]);
            Assert.Equal(ledger.DdpEquivalentPayloadBytes, ledger.TotalPayloadBytes);
            Assert.Equal(ledger.DdpEquivalentWireBytes, ledger.TotalWireBytes);
            Assert.Equal(1.0, ledger.ReductionVsDdp);
        }
    }

    [Fact]
    public async Task LocalAdam_SendsThreeModelsEveryK()
    {
        var spec = new AlgorithmSpec { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 10 } };

        var (strategies, _) = await StrategyHarness.RunAsync(spec, W, P, T);

        for (int rank = 0; rank < W; rank++)
        {
            LedgerSnapshot ledger = strategies[rank].Ledger.Snapshot();
            Assert.Equal(T / 10 * ModelBytes, ledger.PayloadBytes[StateKind.Params]);
            Assert.Equal(T / 10 * ModelBytes, ledger.PayloadBytes[StateKind.M1]);
            Assert.Equal(T / 10 * ModelBytes, ledger.PayloadBytes[StateKind.M2]);
            Assert.Equal(T / 10 * Ring(3 * P, rank), ledger.TotalWireBytes);
            Assert.Equal(3.0 / 10, (double)ledger.TotalPayloadBytes / ledger.DdpEquivalentPayloadBytes, 12);
        }
    }

    [Fact]
    public async Task DesLoc_SendsEachStateOnItsOwnPeriod()
    {
        var spec = new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 10 } };   // Ku 30, Kv 60

        var (strategies, _) = await StrategyHarness.RunAsync(spec, W, P, T);

        for (int rank = 0; rank < W; rank++)
        {
            LedgerSnapshot ledger = strategies[rank].Ledger.Snapshot();
            Assert.Equal(T / 10 * ModelBytes, ledger.PayloadBytes[StateKind.Params]);
            Assert.Equal(T / 30 * ModelBytes, ledger.PayloadBytes[StateKind.M1]);
            Assert.Equal(T / 60 * ModelBytes, ledger.PayloadBytes[StateKind.M2]);
            Assert.Equal((T / 10 + T / 30 + T / 60) * Ring(P, rank), ledger.TotalWireBytes);
            Assert.Equal(1.0 / 10 + 1.0 / 30 + 1.0 / 60, (double)ledger.TotalPayloadBytes / ledger.DdpEquivalentPayloadBytes, 12);
        }
    }

    [Fact]
    public async Task DesLoc_AtTheRecommendedRatios_SendsHalfOfLocalAdam()
    {
        var (desloc, _) = await StrategyHarness.RunAsync(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 10 } }, W, P, T);
        var (localAdam, _) = await StrategyHarness.RunAsync(new AlgorithmSpec { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 10 } }, W, P, T);

        Assert.Equal(2 * desloc[0].Ledger.TotalPayloadBytes, localAdam[0].Ledger.TotalPayloadBytes);
    }

    [Fact]
    public async Task DiLoCo_SendsOnePseudoGradientEveryH()
    {
        var spec = new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 12 } };

        var (strategies, _) = await StrategyHarness.RunAsync(spec, W, P, T);

        for (int rank = 0; rank < W; rank++)
        {
            LedgerSnapshot ledger = strategies[rank].Ledger.Snapshot();
            Assert.Equal(T / 12 * ModelBytes, ledger.TotalPayloadBytes);
            Assert.Equal(T / 12 * ModelBytes, ledger.PayloadBytes[StateKind.PseudoGrad]);
            Assert.Equal(T / 12 * Ring(P, rank), ledger.TotalWireBytes);
        }
    }

    [Fact]
    public async Task Palsgd_SendsGradientsDuringWarmupThenOneModelEveryH()
    {
        var spec = new AlgorithmSpec
        {
            Type = AlgorithmType.PALSGD,
            Palsgd = new() { Period = 10, Probability = 0.3, Eta = 0.5 },
            DdpWarmupSteps = 20,
        };

        var (strategies, _) = await StrategyHarness.RunAsync(spec, W, P, T);

        foreach (ISyncStrategy strategy in strategies)
        {
            Assert.Equal(20 * ModelBytes, strategy.Ledger.PayloadBytes(StateKind.Grads));
            Assert.Equal((T - 20) / 10 * ModelBytes, strategy.Ledger.PayloadBytes(StateKind.PseudoGrad));
            Assert.Equal(20 + (T - 20) / 10, strategy.Ledger.Exchanges(StateKind.Grads) + strategy.Ledger.Exchanges(StateKind.PseudoGrad));
        }
    }

    [Fact]
    public async Task DctMomentum_SendsTopKIndexValuePairsPerChunkEveryH()
    {
        var spec = new AlgorithmSpec { Type = AlgorithmType.DCTMomentum, Dct = new() { Period = 10, Chunk = 64, TopK = 4 } };

        var (strategies, _) = await StrategyHarness.RunAsync(spec, W, P, T);

        long payload = 20 * 4 * (1 + 4);   // 1000 values as one 1-D tensor: 20 chunks of 50 (its largest divisor up to 64); k=4 one-byte indices and float32 values
        foreach (ISyncStrategy strategy in strategies)
        {
            Assert.Equal(T / 10 * payload, strategy.Ledger.PayloadBytes(StateKind.Dct));
            Assert.Equal(T / 10 * (W - 1) * payload, strategy.Ledger.WireBytes(StateKind.Dct));
            Assert.Equal(strategy.Ledger.TotalWireBytes, strategy.Ledger.WireBytes(StateKind.Dct));
        }
    }

    /// <summary>The paper's setting (64 x 64 blocks, top-32) on 2-D weights: 32 of 4096 coefficients with 2-byte indices.</summary>
    [Fact]
    public async Task DctMomentum_SendsManyTimesFewerBytesThanDiLoCoAtTheSameH()
    {
        long[][] shapes = [[64, 256], [128, 64]];   // 6 blocks of 64 x 64
        var (dct, _) = await StrategyHarness.RunAsync(new AlgorithmSpec { Type = AlgorithmType.DCTMomentum, Dct = new() { Period = 10 } }, W, shapes, T);
        var (diloco, _) = await StrategyHarness.RunAsync(new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 10 } }, W, shapes, T);

        double ratio = (double)diloco[0].Ledger.TotalWireBytes / dct[0].Ledger.TotalWireBytes;

        Assert.Equal(2.0 * 4096 * 4 * (W - 1) / W / ((W - 1) * 32 * 6), ratio, 1e-9);   // about 42.7x at W = 4
    }
}
