using DesLoc.Sync.Accounting;
using DesLoc.Trainer.Training;
using static TorchSharp.torch;

namespace DesLoc.Bench.Fair;

/// <summary>The data and model every arm of a table shares.</summary>
internal sealed record Source(string Name, DataSpec Data, ModelSpec Model, int BatchSize)
{
    public const int Replicas = 4;

    /// <summary>Held-out batches per replica in each of the validation and test streams (disjoint ranges of the held-out data).</summary>
    public const int EvalBatches = 16;
}

/// <summary>One finished run: its held-out losses on both streams, its bytes and tokens.</summary>
internal sealed record Trial(
    Arm Arm, int Seed, double LearningRate, double OuterLr, double Validation, double Test, double? Floor,
    IReadOnlyList<LedgerSnapshot> Ledgers, long Tokens, double Seconds)
{
    /// <summary>What the comparison ranks: loss above the source's entropy floor when it has one, else the loss.</summary>
    public double ValidationScore => Validation - (Floor ?? 0);

    public double TestScore => Test - (Floor ?? 0);

    /// <summary>Cross-site wire bytes a replica sent, mean over replicas (ring ranks differ by a chunk's rounding).</summary>
    public double BytesPerReplica => Ledgers.Average(l => (double)l.TotalWireBytes);

    /// <summary>The DDP warm-up's share of <see cref="BytesPerReplica"/> (gradients; none for DDP itself, whose gradients are the method).</summary>
    public double WarmupBytesPerReplica => Arm.Algorithm.Type == AlgorithmType.DDP ? 0 : Ledgers.Average(l => (double)l.WireBytes[StateKind.Grads]);

    /// <summary>What the method itself sent after the shared warm-up: the figure byte-ratio claims compare.</summary>
    public double MethodBytesPerReplica => BytesPerReplica - WarmupBytesPerReplica;

    public double DdpBytesPerReplica => Ledgers.Average(l => (double)l.DdpEquivalentWireBytes);
}

/// <summary>Runs one arm in this process (<see cref="InProcessJob"/>: deterministic for a seed on one thread).</summary>
internal static class TrialRunner
{
    public static JobSpec Spec(Source source, Arm arm, int warmup, int localSteps, double learningRate, double outerLr, int seed) => new()
    {
        Replicas = Source.Replicas,
        Model = source.Model,
        Data = source.Data,
        Training = new TrainingSpec
        {
            Steps = warmup + arm.LocalSteps(localSteps),   // DDP trains the same steps; its warm-up is itself
            BatchSize = source.BatchSize,
            LearningRate = learningRate,
            Seed = seed,
            EvalBatches = Source.EvalBatches,
        },
        Algorithm = arm.WithOuterLr(outerLr),
        Sync = new SyncSpec { Compression = arm.Compression },
    };

    public static async Task<Trial> RunAsync(Source source, Arm arm, int warmup, int localSteps, double learningRate, double outerLr, int seed)
    {
        JobSpec spec = Spec(source, arm, warmup, localSteps, learningRate, outerLr, seed);
        using var job = new InProcessJob(spec, CPU);
        JobResult result = await job.RunAsync(CancellationToken.None);
        // The job evaluated batches [0, n) at its end: the validation stream. The test stream is the next n batches.
        double test = job.Replicas.Average(r => r.Evaluate(Source.EvalBatches, Source.EvalBatches));
        long tokens = job.Replicas.Sum(r => r.BatchesDrawn) * spec.Training.BatchSize * spec.Model.Context;
        return new Trial(arm, seed, learningRate, outerLr, result.MeanEvalLoss, test, result.EntropyFloor, result.Ledgers, tokens, result.WallTime.TotalSeconds);
    }
}
