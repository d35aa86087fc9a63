using DesLoc.Sync.Accounting;
using DesLoc.Trainer.Training;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Tests.Training;

/// <summary>Tiny GPT jobs on the synthetic Markov source (vocab 16, order 2) that train in seconds on a CPU.</summary>
internal static class TinyJobs
{
    public static JobSpec Spec(AlgorithmSpec algorithm, int steps, int replicas = 4) => new()
    {
        Replicas = replicas,
        Model = new ModelSpec { Layers = 1, Dim = 32, Heads = 2, Context = 32 },
        Data = new DataSpec { Synthetic = new SyntheticSpec() },
        Training = new TrainingSpec { Steps = steps, BatchSize = 16, LearningRate = 0.01, WarmupSteps = 10, EvalBatches = 8 },
        Algorithm = algorithm,
    };

    public static async Task<(JobResult Result, float[][] Parameters)> RunAsync(JobSpec spec, StrategyFactory? factory = null)
    {
        using var job = new InProcessJob(spec, CPU, factory);
        JobResult result = await job.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));
        float[][] parameters = job.Replicas.Select(r =>
        {
            float[] flat = new float[r.ParameterCount];
            r.State.CopyTo(StateKind.Params, flat);
            return flat;
        }).ToArray();
        return (result, parameters);
    }
}
