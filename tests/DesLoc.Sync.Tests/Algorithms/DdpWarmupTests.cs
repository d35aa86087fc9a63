using DesLoc.Contract.Collectives;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;

namespace DesLoc.Sync.Tests.Algorithms;

/// <summary>The DDP warm-up every local method shares (algorithm.ddpWarmupSteps).</summary>
public sealed class DdpWarmupTests
{
    private const int World = 3;
    private const int P = 40;
    private const int Warmup = 12;

    public static TheoryData<AlgorithmType> LocalMethods => [AlgorithmType.LocalAdam, AlgorithmType.DESLOC, AlgorithmType.DiLoCo, AlgorithmType.PALSGD, AlgorithmType.DCTMomentum];

    private static AlgorithmSpec Spec(AlgorithmType type, int warmup) => new()
    {
        Type = type,
        DdpWarmupSteps = warmup,
        LocalAdam = new() { Period = 5 },
        Desloc = new() { Kx = 5, Ku = 10, Kv = 20 },
        Diloco = new() { Period = 5 },
        Palsgd = new() { Period = 5, Probability = 0.3 },
        Dct = new() { Period = 5, Chunk = 8, TopK = 2 },
    };

    [Theory]
    [MemberData(nameof(LocalMethods))]
    public async Task Warmup_AveragesGradientsEveryStep_ThenTheMethodsScheduleCountsFromItsEnd(AlgorithmType type)
    {
        const int steps = Warmup + 20;
        var (warm, _) = await StrategyHarness.RunAsync(Spec(type, Warmup), World, P, steps);
        var (cold, _) = await StrategyHarness.RunAsync(Spec(type, 0), World, P, 20);

        ISyncStrategy strategy = warm[0];
        Assert.All(Enumerable.Range(1, Warmup), s =>
        {
            Assert.True(strategy.ExchangesAt(s, SyncPhase.AfterBackward));
            Assert.False(strategy.ExchangesAt(s, SyncPhase.AfterStep));
            Assert.Equal(StepPlan.Gradient, strategy.Plan(s));
        });
        // After the warm-up the schedule is the cold one shifted by the warm-up.
        Assert.All(Enumerable.Range(1, 20), s =>
        {
            Assert.Equal(cold[0].ExchangesAt(s, SyncPhase.AfterStep), strategy.ExchangesAt(Warmup + s, SyncPhase.AfterStep));
            Assert.Equal(cold[0].Plan(s), strategy.Plan(Warmup + s));
        });

        // The warm-up's bytes are the gradients' and nothing else's: one ring all-reduce of P floats a step.
        LedgerSnapshot ledger = strategy.Ledger.Snapshot();
        long ring = RingTraffic.AllReduceBytes(P, sizeof(float), World, 0);
        Assert.Equal(Warmup * ring, ledger.WireBytes[StateKind.Grads]);
        Assert.Equal(cold[0].Ledger.TotalWireBytes, ledger.TotalWireBytes - ledger.WireBytes[StateKind.Grads]);
    }

    [Fact]
    public async Task Warmup_LeavesReplicasIdenticalAtItsEnd()
    {
        var (_, replicas) = await StrategyHarness.RunAsync(Spec(AlgorithmType.DiLoCo, Warmup), World, P, Warmup);

        Assert.All(replicas, r => Assert.Equal(replicas[0][StateKind.Params], r[StateKind.Params]));
    }

    [Fact]
    public void Ddp_IgnoresTheWarmup()
    {
        ISyncStrategy ddp = SyncStrategies.Create(Spec(AlgorithmType.DDP, Warmup), new Transport.Collectives.InMemoryCollectiveGroup(1)[0], P, 1);

        Assert.True(ddp.ExchangesAt(Warmup + 7, SyncPhase.AfterBackward));
    }
}
