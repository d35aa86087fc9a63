using DesLoc.Contract.Collectives;
using DesLoc.Contract.Wire;
using DesLoc.Sync.Accounting;

namespace DesLoc.Sync.Tests.Algorithms;

/// <summary>
/// The slow tier sharded over a replica's workers (DESIGN.md §6): every algorithm's exchanges give what unsharded ones
/// give, and the ledger's bytes per tier are the ring formulas, for W = 1, 2 and 4.
/// </summary>
public sealed class ShardedExchangeTests
{
    private const int P = 1001;   // not a multiple of W: shards differ by one element
    private const int R = 2;
    private const int T = 60;

    public static TheoryData<string> Algorithms => [.. new[] { "ddp", "localadam", "desloc", "diloco", "palsgd", "dct" }];

    private static AlgorithmSpec Spec(string name) => name switch
    {
        "ddp" => new AlgorithmSpec { Type = AlgorithmType.DDP },
        "localadam" => new AlgorithmSpec { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 6 } },
        "desloc" => new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 5, Ku = 10, Kv = 20 } },
        "diloco" => new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 10 } },
        "palsgd" => new AlgorithmSpec { Type = AlgorithmType.PALSGD, Palsgd = new() { Period = 10, Probability = 0.3 }, DdpWarmupSteps = 10 },
        "dct" => new AlgorithmSpec { Type = AlgorithmType.DCTMomentum, Dct = new() { Period = 10, Chunk = 64, TopK = 8 } },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task TwoReplicasOfTwoWorkers_EndAsTwoUnshardedReplicas(string algorithm)
    {
        AlgorithmSpec spec = Spec(algorithm);
        var (_, unsharded) = await StrategyHarness.RunAsync(spec, R, P, T);
        var (_, workers) = await StrategyHarness.RunShardedAsync(spec, R, 2, P, T);

        for (int g = 0; g < workers.Length; g++)
        {
            foreach (StateKind kind in new[] { StateKind.Params, StateKind.M1, StateKind.M2 })
            {
                float[] expected = unsharded[g / 2][kind];
                float[] actual = workers[g][kind];
                float worst = expected.Zip(actual, (e, a) => MathF.Abs(e - a)).Max();
                Assert.True(worst <= 1e-6f, $"{algorithm}: worker {g} {kind} differs by {worst} from its unsharded replica");
            }
        }

        // The workers of one replica are identical, bit for bit: they all apply the same gathered shards.
        Assert.Equal(workers[0][StateKind.Params], workers[1][StateKind.Params]);
        Assert.Equal(workers[2][StateKind.Params], workers[3][StateKind.Params]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task DesLoc_BytesPerTier_AreTheRingFormulas(int w)
    {
        var spec = new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 5, Ku = 10, Kv = 20 } };
        long exchanges = (T / 5) + (T / 10) + (T / 20);

        var (strategies, _) = await StrategyHarness.RunShardedAsync(spec, R, w, P, T);

        var topology = new JobTopology(R, w);
        for (int g = 0; g < strategies.Length; g++)
        {
            (int replica, int worker) = (topology.ReplicaOf(g), topology.WorkerOf(g));
            long shard = RingTraffic.ChunkLength(P, w, worker);
            long[] shardBytes = [.. Enumerable.Range(0, w).Select(i => RingTraffic.ChunkLength(P, w, i) * sizeof(float))];
            CommunicationLedger ledger = strategies[g].Ledger;
            Assert.Equal(exchanges * RingTraffic.AllReduceBytes(shard, sizeof(float), R, replica), ledger.TotalWireBytesIn(Tier.Inter));
            Assert.Equal(exchanges * (w == 1 ? 0 : RingTraffic.AllGatherBytes(shardBytes, worker)), ledger.TotalWireBytesIn(Tier.Intra));
            Assert.Equal(T * RingTraffic.AllReduceBytes(P, sizeof(float), R * w, (replica * w) + w - 1), ledger.DdpEquivalentWireBytes);
        }

        // Cross-site bytes per replica are one model's worth whatever W is: the shards add up to the unsharded exchange's.
        long replicaZero = strategies.Take(w).Sum(s => s.Ledger.TotalWireBytes);
        long shardsOfModel = Enumerable.Range(0, w).Sum(i => RingTraffic.AllReduceBytes(RingTraffic.ChunkLength(P, w, i), sizeof(float), R, 0));
        Assert.Equal(exchanges * shardsOfModel, replicaZero);
    }

    [Fact]
    public async Task DctMomentum_ShardsItsPayloadBytes_AndTheReplicaGathersThem()
    {
        const int w = 2;
        AlgorithmSpec spec = Spec("dct");
        var (strategies, _) = await StrategyHarness.RunShardedAsync(spec, R, w, P, T);

        long payload = strategies[0].Ledger.PayloadBytes(StateKind.Dct) / (T / 10);
        for (int g = 0; g < strategies.Length; g++)
        {
            (int replica, int worker) = (g / w, g % w);
            long slice = RingTraffic.ChunkLength(payload, w, worker);
            long[] packed = [.. Enumerable.Range(0, w).Select(i => 4 + (4L * R) + (R * RingTraffic.ChunkLength(payload, w, i)))];
            CommunicationLedger ledger = strategies[g].Ledger;
            Assert.Equal(T / 10 * RingTraffic.AllGatherBytes([.. Enumerable.Repeat(slice, R)], replica), ledger.TotalWireBytesIn(Tier.Inter));
            Assert.Equal(T / 10 * RingTraffic.AllGatherBytes(packed, worker), ledger.TotalWireBytesIn(Tier.Intra));
        }
    }

    [Fact]
    public async Task JobReduction_CountsFlatDdpOncePerReplica()
    {
        var spec = new AlgorithmSpec { Type = AlgorithmType.DDP };
        var (strategies, _) = await StrategyHarness.RunShardedAsync(spec, R, 2, P, T);

        LedgerSnapshot[] workers = [.. strategies.Select(s => s.Ledger.Snapshot())];
        long ddp = T * (RingTraffic.AllReduceBytes(P, sizeof(float), 4, 1) + RingTraffic.AllReduceBytes(P, sizeof(float), 4, 3));
        long sent = workers.Sum(l => l.TotalWireBytes);
        Assert.Equal((double)ddp / sent, LedgerSnapshot.JobReductionVsDdp(workers), 12);
        // Between two replicas each worker's ring of 2 sends its shard once, so each site sends one gradient per step;
        // flat DDP's ring of 4 sends 2·3/4 of a gradient out of each site.
        Assert.Equal(R * T * P * sizeof(float), sent);
        Assert.Equal(1.5, LedgerSnapshot.JobReductionVsDdp(workers), 2);
    }
}
