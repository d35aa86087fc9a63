using DesLoc.Sync.State;
using DesLoc.Trainer.Tests.Training;

namespace DesLoc.Trainer.Tests.Distributed;

/// <summary>
/// Two replicas of two workers as four real processes on loopback (DESIGN.md §6): the fast tier and the sharded slow
/// tier over sockets, whole-replica quorums, and the faults a worker or a whole replica can suffer.
/// </summary>
[Collection("TorchSharp")]
public sealed class TwoTierProcessTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(3);

    private static JobSpec Spec(int steps, AlgorithmSpec algorithm)
    {
        JobSpec spec = TinyJobs.Spec(algorithm, steps, replicas: 2);
        return spec with
        {
            WorkersPerReplica = 2,
            Training = spec.Training with { BatchSize = 8 },
            FaultTolerance = new FaultToleranceSpec { RoundTimeoutSeconds = 5, JoinTimeoutSeconds = 30 },
        };
    }

    [Fact]
    public async Task TwoReplicasOfTwoWorkers_MatchTheInProcessRun_ByteForByteInTheLedger()
    {
        JobSpec spec = Spec(120, new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 10 } });
        var (expected, _) = await TinyJobs.RunAsync(spec);
        using var cluster = new ReplicaCluster(spec, checkpointEverySteps: 120);
        cluster.StartAll();

        int[] exits = await cluster.WaitForAllAsync(s_timeout);

        Assert.All(exits, code => Assert.Equal(0, code));
        StateBundle[] finals = [.. Enumerable.Range(0, 4).Select(g => cluster.Checkpoint(g, 120))];
        // Step 120 syncs parameters, so every worker of the job ends on the same model.
        Assert.All(finals, f => Assert.Equal(finals[0].Floats("replica.params"), f.Floats("replica.params")));
        for (int g = 0; g < 4; g++)
        {
            // Both tiers' counters are what the in-process run of the same shape counted.
            Assert.Equal(expected.Ledgers[g].WireBytes.Values, finals[g].Longs("ledger.wire"));
            Assert.Equal(expected.Ledgers[g].IntraWireBytes.Values, finals[g].Longs("ledger.intra.wire"));
        }

        Assert.InRange(Enumerable.Range(0, 4).Average(cluster.FinalLoss), expected.MeanEvalLoss - 0.02, expected.MeanEvalLoss + 0.02);
    }

    [Fact]
    public async Task KillNineBothWorkersOfOneReplica_ItHealsFromTheOtherReplica()
    {
        JobSpec spec = Spec(1200, new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 5 } });
        using var cluster = new ReplicaCluster(spec, checkpointEverySteps: 1200);
        cluster.StartAll();

        await cluster.WaitForStepAsync([2, 3], 60, s_timeout);
        cluster.Kill(2);
        cluster.Kill(3);
        await cluster.WaitForStepAsync([0, 1], 100, s_timeout);   // replica 0 trains on alone
        cluster.Start(2);
        cluster.Start(3);
        int[] exits = await cluster.WaitForAllAsync(s_timeout);

        Assert.All(exits, code => Assert.Equal(0, code));
        // Each worker heals from the worker of replica 0 that carries its shard.
        Assert.Contains("Healed rank 2 from rank 0", cluster.Log(2));
        Assert.Contains("Healed rank 3 from rank 1", cluster.Log(3));
        float[] reference = cluster.Checkpoint(0, 1200).Floats("replica.params");
        Assert.All(Enumerable.Range(1, 3), g => Assert.Equal(reference, cluster.Checkpoint(g, 1200).Floats("replica.params")));
    }

    [Fact]
    public async Task KillNineOneWorker_TheReplacementHealsFromItsSibling_AndTheRunEndsAsIfUninterrupted()
    {
        // One replica of two workers: nothing to heal from but the sibling, and a 2-worker ring sums exactly as the
        // in-process group does, so the run must end bit for bit where an uninterrupted one does.
        JobSpec spec = Spec(600, new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 5 } }) with { Replicas = 1 };
        var (_, uninterrupted) = await TinyJobs.RunAsync(spec);
        using var cluster = new ReplicaCluster(spec, checkpointEverySteps: 600);
        cluster.StartAll();

        await cluster.WaitForStepAsync([1], 100, s_timeout);
        cluster.Kill(1);
        cluster.Start(1);
        int[] exits = await cluster.WaitForAllAsync(s_timeout);

        Assert.All(exits, code => Assert.Equal(0, code));   // the sibling waited; it was never restarted
        Assert.Contains("Healed rank 1 from rank 0", cluster.Log(1));
        Assert.Equal(uninterrupted[0], cluster.Checkpoint(0, 600).Floats("replica.params"));
        Assert.Equal(uninterrupted[1], cluster.Checkpoint(1, 600).Floats("replica.params"));
    }

    [Fact]
    public async Task KillNineOneWorker_TheOtherReplicaTrainsOn_AndEveryWorkerEndsIdentical()
    {
        JobSpec spec = Spec(1200, new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 10 } });
        using var cluster = new ReplicaCluster(spec, checkpointEverySteps: 1200);
        cluster.StartAll();

        await cluster.WaitForStepAsync([3], 60, s_timeout);
        cluster.Kill(3);
        await cluster.WaitForStepAsync([0, 1], 100, s_timeout);   // replica 0 keeps training
        cluster.Start(3);
        int[] exits = await cluster.WaitForAllAsync(s_timeout);

        // The sibling waited for the replacement (it was never restarted); the replacement healed from it, or, when
        // replica 0 had moved past the sync point its replica waited at, the whole replica healed from replica 0.
        Assert.All(exits, code => Assert.Equal(0, code));
        Assert.Matches("Healed rank 3 from rank [21]", cluster.Log(3));
        float[] reference = cluster.Checkpoint(0, 1200).Floats("replica.params");
        Assert.All(Enumerable.Range(1, 3), g => Assert.Equal(reference, cluster.Checkpoint(g, 1200).Floats("replica.params")));
    }
}
