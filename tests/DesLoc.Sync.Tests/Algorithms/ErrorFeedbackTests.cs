using DesLoc.Contract.Collectives;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.State;
using DesLoc.Transport.Collectives;

namespace DesLoc.Sync.Tests.Algorithms;

/// <summary>DiLoCo and PALSGD under <c>sync.compression: int8</c>: int8 pseudo-gradients with error feedback, bf16 state.</summary>
public sealed class ErrorFeedbackTests
{
    private const int P = 1000;
    private const int W = 3;
    private const int T = 120;

    private static readonly AlgorithmSpec s_diloco = new() { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 10 } };

    [Fact]
    public async Task DiLoCo_Int8_StaysCloseToFloat32_ReplicasIdentical_WireBytesAsTheFormula()
    {
        var (_, exact) = await StrategyHarness.RunAsync(s_diloco, W, P, T);
        var (strategies, int8) = await StrategyHarness.RunAsync(s_diloco, W, P, T, compression: WireCompression.BlockInt8);

        Assert.All(int8, replica => Assert.Equal(int8[0][StateKind.Params], replica[StateKind.Params]));
        // Twelve outer rounds of pseudo-gradients of about 0.05: int8 steps are about 4e-4, and feedback keeps them from adding up.
        double worst = int8[0][StateKind.Params].Zip(exact[0][StateKind.Params], (a, b) => System.Math.Abs(a - b)).Max();
        Assert.InRange(worst, 1e-7, 2e-3);
        for (int rank = 0; rank < W; rank++)
        {
            LedgerSnapshot ledger = strategies[rank].Ledger.Snapshot();
            Assert.Equal(T / 10, strategies[rank].Ledger.Exchanges(StateKind.PseudoGrad));
            Assert.Equal(T / 10 * P * sizeof(float), ledger.PayloadBytes[StateKind.PseudoGrad]);
            Assert.Equal(T / 10 * RingTraffic.AllReduceBytes(P, WireFormat.BlockInt8.EncodedBytes, W, rank), ledger.TotalWireBytes);
        }
    }

    [Fact]
    public async Task DiLoCo_Int8_ResidualTravelsWithTheState()
    {
        var (strategies, _) = await StrategyHarness.RunAsync(s_diloco, W, P, 25, compression: WireCompression.BlockInt8);
        var exported = new StateBundle();
        strategies[1].ExportState(exported);
        ISyncStrategy healed = SyncStrategies.Create(s_diloco, new InMemoryCollectiveGroup(W)[1], P, 1);

        healed.ImportState(StateBundle.FromBytes(exported.ToBytes()));
        var again = new StateBundle();
        healed.ExportState(again);

        float[] residual = exported.Floats("outer.residual");
        Assert.Contains(residual, e => e != 0);
        Assert.Equal(residual, again.Floats("outer.residual"));
    }

    [Fact]
    public async Task DiLoCo_Float32_LosesNothing_ResidualStaysZero()
    {
        var (strategies, _) = await StrategyHarness.RunAsync(s_diloco, W, P, 20);
        var exported = new StateBundle();
        strategies[0].ExportState(exported);

        Assert.All(exported.Floats("outer.residual"), e => Assert.Equal(0f, e));
    }

    [Fact]
    public async Task Palsgd_Int8_Sharded_EveryWorkerIdentical_StateAsBf16()
    {
        var spec = new AlgorithmSpec { Type = AlgorithmType.PALSGD, Palsgd = new() { Period = 10, Probability = 0.3 }, DdpWarmupSteps = 10 };

        var (strategies, workers) = await StrategyHarness.RunShardedAsync(spec, replicas: W, workers: 2, P, 60, compression: WireCompression.BlockInt8);

        Assert.All(workers, worker => Assert.Equal(workers[0][StateKind.Params], worker[StateKind.Params]));
        var residuals = strategies.Select(s =>
        {
            var bundle = new StateBundle();
            s.ExportState(bundle);
            return bundle.Floats("outer.residual");
        }).ToArray();
        Assert.All(residuals, residual => Assert.Equal(residuals[0].Length, residual.Length));
        // A replica's two workers keep the same residual, each having gathered the other's shard of it.
        for (int replica = 0; replica < W; replica++)
        {
            Assert.Equal(residuals[2 * replica], residuals[(2 * replica) + 1]);
        }

        // Warm-up gradients are state: bf16, half of float32's bytes on the wire.
        LedgerSnapshot ledger = strategies[0].Ledger.Snapshot();
        Assert.Equal(10 * RingTraffic.AllReduceBytes(RingTraffic.ChunkLength(P, 2, 0), sizeof(ushort), W, 0), ledger.WireBytes[StateKind.Grads]);
    }
}
