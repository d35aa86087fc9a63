using DesLoc.Sync.Accounting;

namespace DesLoc.Trainer.Tests.Training;

/// <summary>
/// Replicas of several workers trained for real (TorchSharp, in process): the fast tier makes W workers of batch b one
/// replica of batch W·b, and the sharded slow tier makes a job of R × W workers train as R replicas of one worker.
/// </summary>
public sealed class TwoTierTrainingTests
{
    private const int Steps = 12;

    // Float tolerance for the parameters after 12 AdamW steps at lr 0.01: the mean of two half-batch gradients differs
    // from the whole batch's in the last bits, and Adam's per-coordinate normalisation lifts that to about 3e-5 where a
    // gradient is near zero. Another batch order, or one worker's gradient alone, moves parameters by about 1e-2.
    private const float Tolerance = 1e-4f;

    [Fact]
    public async Task OneReplicaOfTwoWorkers_EqualsOneWorkerWithTwiceTheBatch()
    {
        var algorithm = new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 4 } };
        JobSpec single = TinyJobs.Spec(algorithm, Steps, replicas: 1) with { Training = TinyJobs.Spec(algorithm, Steps).Training with { BatchSize = 16 } };
        JobSpec pair = single with { WorkersPerReplica = 2, Training = single.Training with { BatchSize = 8 } };

        var (_, one) = await TinyJobs.RunAsync(single);
        var (result, two) = await TinyJobs.RunAsync(pair);

        Assert.Equal(2, two.Length);
        Assert.Equal(two[0], two[1]);   // the workers of a replica stay identical, bit for bit
        AssertClose(one[0], two[0], Tolerance, "W = 2 with batch 8 against W = 1 with batch 16");
        // Every step averaged one gradient over the pair: a ring all-reduce of P floats between 2 workers sends P floats.
        LedgerSnapshot ledger = result.Ledgers[0];
        Assert.Equal(Steps * (long)result.ParameterCount * sizeof(float), ledger.IntraWireBytes[StateKind.Grads]);
        Assert.Equal(0, ledger.TotalWireBytes);   // one replica: nothing crosses sites
    }

    [Fact]
    public async Task TwoMicroBatches_EqualOneBatchOfTwiceTheSize()
    {
        var algorithm = new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 4 } };
        JobSpec whole = TinyJobs.Spec(algorithm, Steps, replicas: 2);
        JobSpec accumulated = whole with { Training = whole.Training with { BatchSize = whole.Training.BatchSize / 2, MicroBatches = 2 } };

        var (_, one) = await TinyJobs.RunAsync(whole);
        var (_, two) = await TinyJobs.RunAsync(accumulated);

        for (int r = 0; r < one.Length; r++)
        {
            AssertClose(one[r], two[r], Tolerance, $"replica {r}: 2 micro-batches of 8 against one batch of 16");
        }
    }

    [Theory]
    [InlineData(AlgorithmType.DESLOC)]
    [InlineData(AlgorithmType.DiLoCo)]
    public async Task TwoReplicasOfTwoWorkers_TrainAsTwoReplicasOfOne(AlgorithmType type)
    {
        var algorithm = new AlgorithmSpec { Type = type, Desloc = new() { Kx = 4 }, Diloco = new() { Period = 4 } };
        JobSpec flat = TinyJobs.Spec(algorithm, Steps, replicas: 2);
        JobSpec tiered = flat with { WorkersPerReplica = 2, Training = flat.Training with { BatchSize = flat.Training.BatchSize / 2 } };

        var (flatResult, replicas) = await TinyJobs.RunAsync(flat);
        var (tieredResult, workers) = await TinyJobs.RunAsync(tiered);

        Assert.Equal(4, workers.Length);
        for (int g = 0; g < workers.Length; g++)
        {
            AssertClose(replicas[g / 2], workers[g], Tolerance, $"{type}: worker {g} against replica {g / 2}");
        }

        Assert.Equal(workers[0], workers[1]);
        Assert.Equal(workers[2], workers[3]);
        // Cross-site bytes per replica do not change with W: the two workers' shards add up to one replica's exchange.
        long flatReplica = flatResult.Ledgers[0].TotalWireBytes;
        long tieredReplica = tieredResult.Ledgers[0].TotalWireBytes + tieredResult.Ledgers[1].TotalWireBytes;
        Assert.Equal(flatReplica, tieredReplica);
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = expected.Zip(actual, (e, a) => MathF.Abs(e - a)).Max();
        Assert.True(worst <= tolerance, $"{what}: parameters differ by up to {worst}");
    }
}
