using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.Math;
using DesLoc.Sync.State;
using DesLoc.Trainer.Checkpoints;
using DesLoc.Trainer.Models;
using DesLoc.Trainer.Tests.Training;

namespace DesLoc.Trainer.Tests.Distributed;

/// <summary>
/// Four replicas as separate processes talking gRPC over loopback. Tolerance against the in-process run: the ring
/// sums chunks in ring order, the in-process group in rank order, so values differ in the last float bits and
/// Adam amplifies that a little over hundreds of steps; 0.02 nats is far below any real divergence.
/// </summary>
[Collection("TorchSharp")]
public sealed class ReplicaProcessTests
{
    private const double LossTolerance = 0.02;
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData(AlgorithmType.DESLOC)]
    [InlineData(AlgorithmType.DCTMomentum)]
    public async Task FourProcesses_MatchTheInProcessRun_WithTheAnalyticByteCounts(AlgorithmType type)
    {
        JobSpec spec = TinyJobs.Spec(new AlgorithmSpec { Type = type, Desloc = new() { Kx = 10 }, Dct = new() { Period = 10 } }, steps: 240);
        var (expected, _) = await TinyJobs.RunAsync(spec);
        using var cluster = new ReplicaCluster(spec, checkpointEverySteps: 240);
        cluster.StartAll();

        int[] exits = await cluster.WaitForAllAsync(s_timeout);

        Assert.All(exits, code => Assert.Equal(0, code));
        double meanLoss = Enumerable.Range(0, 4).Average(cluster.FinalLoss);
        Assert.InRange(meanLoss, expected.MeanEvalLoss - LossTolerance, expected.MeanEvalLoss + LossTolerance);

        // Payload by kind (params, grads, m1, m2, pseudograd, dct) from the formulas: DES-LOC syncs params every 10
        // steps, m1 every 30 and m2 every 60; DCT momentum sends top-32 indices and float32 values per block of the
        // model's tensors every 10 steps (so the processes got the model's shapes, not one flat vector).
        long model = (long)expected.ParameterCount * sizeof(float);
        long dctPayload = SparseBlockCoefficients.PayloadBytesOf(DctMomentum.LayoutOf(spec.Algorithm.Dct, LanguageModels.ParameterShapes(spec)), 32);
        long[] analytic = type == AlgorithmType.DESLOC
            ? [240 / 10 * model, 0, 240 / 30 * model, 240 / 60 * model, 0, 0]
            : [0, 0, 0, 0, 0, 240 / 10 * dctPayload];
        for (int rank = 0; rank < 4; rank++)
        {
            StateBundle final = cluster.Checkpoint(rank, 240);
            long[] payload = final.Longs("ledger.payload");
            long[] wire = final.Longs("ledger.wire");
            LedgerSnapshot reference = expected.Ledgers[rank];
            Assert.Equal(analytic, payload);
            Assert.Equal(reference.PayloadBytes.Values, payload);
            Assert.Equal(reference.WireBytes.Values, wire);
        }
    }

    [Fact]
    public async Task KillNineOneReplica_TheOthersCarryOn_TheRestartedOneHealsAndEndsIdentical()
    {
        // Long enough that the survivors are still training when the replacement comes up.
        JobSpec spec = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 5 } }, steps: 1500) with
        {
            FaultTolerance = new FaultToleranceSpec { RoundTimeoutSeconds = 5, JoinTimeoutSeconds = 30 },
        };
        using var cluster = new ReplicaCluster(spec, checkpointEverySteps: 1500);
        cluster.StartAll();

        await cluster.WaitForStepAsync([2], 60, s_timeout);
        cluster.Kill(2);
        await cluster.WaitForStepAsync([0, 1, 3], 100, s_timeout);   // the survivors keep training without rank 2
        cluster.Start(2);
        int[] exits = await cluster.WaitForAllAsync(s_timeout);

        Assert.All(exits, code => Assert.Equal(0, code));
        Assert.Contains("Healed rank 2 from rank", cluster.Log(2));
        float[] reference = cluster.Checkpoint(0, 1500).Floats("replica.params");
        for (int rank = 1; rank < 4; rank++)
        {
            Assert.Equal(reference, cluster.Checkpoint(rank, 1500).Floats("replica.params"));
        }
    }

    [Fact]
    public async Task KillNineDuringOverlappedSyncs_SurvivorsRedoTheRound_TheRestartedOneHealsAndEndsIdentical()
    {
        // Syncs every 5 steps stay in flight for 3 of them: rank 2 is killed at step 60 or just after, inside the
        // window of the sync begun at 60 (or of one soon after). The survivors' round then fails (in the transfer, or at
        // the commit when the transfer had completed): they keep nothing of it, go back to its step and redo it among
        // themselves. The last sync (step 600) lands at its own step, so every replica ends with the same state.
        JobSpec spec = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 5 } }, steps: 600) with
        {
            Sync = new SyncSpec { OverlapSteps = 3 },
            FaultTolerance = new FaultToleranceSpec { RoundTimeoutSeconds = 5, JoinTimeoutSeconds = 30 },
        };
        using var cluster = new ReplicaCluster(spec, checkpointEverySteps: 600);
        cluster.StartAll();

        await cluster.WaitForStepAsync([2], 60, s_timeout);
        cluster.Kill(2);
        await cluster.WaitForStepAsync([0, 1, 3], 100, s_timeout);
        cluster.Start(2);
        int[] exits = await cluster.WaitForAllAsync(s_timeout);

        Assert.All(exits, code => Assert.Equal(0, code));
        Assert.Contains("Healed rank 2 from rank", cluster.Log(2));
        StateBundle reference = cluster.Checkpoint(0, 600);
        for (int rank = 1; rank < 4; rank++)
        {
            StateBundle final = cluster.Checkpoint(rank, 600);
            Assert.Equal(reference.Floats("replica.params"), final.Floats("replica.params"));
            Assert.Equal(reference.Floats("replica.m1"), final.Floats("replica.m1"));
            Assert.Equal(reference.Floats("replica.m2"), final.Floats("replica.m2"));
        }

        // Every survivor recorded exactly one params exchange per sync step: a failed round left nothing in the ledger.
        for (int rank = 0; rank < 4; rank++)
        {
            Assert.Equal(600 / 5 * (long)cluster.Checkpoint(rank, 600).Floats("replica.params").Length * sizeof(float), cluster.Checkpoint(rank, 600).Longs("ledger.payload")[0]);
        }
    }

    [Fact]
    public async Task KillAll_RestartedReplicas_ResumeFromTheLastCommonCheckpoint()
    {
        JobSpec spec = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 10 } }, steps: 400);
        using var cluster = new ReplicaCluster(spec, checkpointEverySteps: 40);
        cluster.StartAll();

        await cluster.WaitForStepAsync([0, 1, 2, 3], 130, s_timeout);
        for (int rank = 0; rank < 4; rank++)
        {
            cluster.Kill(rank);
        }

        // Truncate rank 2's newest checkpoint: it must be refused, and everyone resumes from a step all still hold.
        CheckpointStore Store(int rank) => new(Path.Combine(cluster.CheckpointRoot, $"rank-{rank}"), 3);
        string truncated = Path.Combine(cluster.CheckpointRoot, "rank-2", $"step-{Store(2).ValidSteps().Max():D9}.state");
        byte[] bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        IEnumerable<long> valid = Store(0).ValidSteps();
        for (int rank = 1; rank < 4; rank++)
        {
            valid = valid.Intersect(Store(rank).ValidSteps());
        }

        long common = valid.Max();
        cluster.StartAll();
        int[] exits = await cluster.WaitForAllAsync(s_timeout);

        Assert.All(exits, code => Assert.Equal(0, code));
        Assert.True(common >= 80, $"common checkpoint at {common}");
        Assert.Contains("truncated or corrupt", cluster.Log(2));
        for (int rank = 0; rank < 4; rank++)
        {
            Assert.Contains($"Resumed rank {rank} from its checkpoint of step {common}", cluster.Log(rank));
            Assert.Equal(400, cluster.Checkpoint(rank, 400).Longs("ledger.steps")[0]);
        }
    }

    [Fact]
    public async Task ReplicaThatNeverStarts_IsLeftOut_TheOthersTrainAmongThemselves()
    {
        // Rank 3 never starts: the first quorum forms without it once the join timeout passes, and every round is among 0..2.
        JobSpec spec = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.LocalAdam, LocalAdam = new() { Period = 1 } }, steps: 30) with
        {
            FaultTolerance = new FaultToleranceSpec { RoundTimeoutSeconds = 5, JoinTimeoutSeconds = 8 },
        };
        using var cluster = new ReplicaCluster(spec, checkpointEverySteps: 30);
        for (int rank = 0; rank < 3; rank++)
        {
            cluster.Start(rank);
        }

        int[] exits = await cluster.WaitForAsync([0, 1, 2], s_timeout);

        Assert.All(exits, code => Assert.Equal(0, code));
        float[] reference = cluster.Checkpoint(0, 30).Floats("replica.params");
        Assert.Equal(reference, cluster.Checkpoint(1, 30).Floats("replica.params"));
        Assert.Equal(reference, cluster.Checkpoint(2, 30).Floats("replica.params"));
        Assert.Contains("Started rank 0 fresh with members 0,1,2", cluster.Log(0));
    }
}
