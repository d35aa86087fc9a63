using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.State;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Training;
using DesLoc.Transport.Collectives;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Tests.Training;

/// <summary>training.evalEverySteps: worker 0 of each replica measures the held-out loss at step boundaries.</summary>
[Collection("TorchSharp")]
public sealed class EvaluationTests
{
    [Fact]
    public async Task EvalEverySteps_EvaluatesWorkerZeroOfEachReplicaAtItsSteps_OnThatStepsState()
    {
        JobSpec spec = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 2 } }, steps: 6, replicas: 2) with { WorkersPerReplica = 2 };
        spec = spec with { Training = spec.Training with { EvalEverySteps = 2, EvalBatches = 2, WarmupSteps = 1, LearningRate = 0.05 } };
        var seen = new List<(int Replica, int Worker, long Step, double Loss, StateBundle State)>();
        using var job = new InProcessJob(spec, CPU);
        foreach (ReplicaTrainer worker in job.Replicas)
        {
            // Raised on the worker's own training thread, between steps: its state is that of the step evaluated.
            worker.Evaluated += e =>
            {
                StateBundle state = worker.ExportState(new Position(e.Step, SyncPhase.AfterStep));
                lock (seen)
                {
                    seen.Add((worker.Rank, worker.Worker, e.Step, e.Loss, state));
                }
            };
        }

        JobResult result = await job.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));

        // During training worker 0 of each replica only (steps 2 and 4); at the end (step 6) every worker, as before.
        var during = seen.Where(s => s.Step < 6).Select(s => (s.Replica, s.Worker, s.Step)).Order().ToArray();
        Assert.Equal([(0, 0, 2L), (0, 0, 4L), (1, 0, 2L), (1, 0, 4L)], during);
        Assert.Equal(4, seen.Count(s => s.Step == 6));
        Assert.Equal(result.MeanEvalLoss, seen.Where(s => s.Step == 6).Average(s => s.Loss), 12);

        // Each value is Evaluate() on the state of its step, rebuilt in a fresh trainer.
        foreach ((int replica, int _, long step, double loss, StateBundle state) in seen.Where(s => s.Worker == 0))
        {
            random.manual_seed(spec.Training.Seed);
            using var fresh = new ReplicaTrainer(spec with { WorkersPerReplica = 1 }, TokenSources.Create(spec), new InMemoryCollectiveGroup(spec.Replicas)[replica], CPU);
            fresh.State.CopyFrom(StateKind.Params, state.Floats("replica.params"));
            Assert.Equal(fresh.Evaluate(), loss, 6);
        }

        // Training moves the held-out loss: the evaluations are not one value repeated.
        double[] replicaZero = [.. seen.Where(s => s is { Replica: 0, Worker: 0 }).OrderBy(s => s.Step).Select(s => s.Loss)];
        Assert.True(replicaZero[0] - replicaZero[^1] > 0.02, $"held-out loss {string.Join(" -> ", replicaZero)}");
        Assert.Equal(6, job.Replicas[0].LastEvaluation!.Step);
    }

    [Fact]
    public void EvaluatesAt_NoneWithEvalEveryStepsZeroOrWithoutEvalBatches_AndNeverAtTheLastStep()
    {
        JobSpec spec = TinyJobs.Spec(new AlgorithmSpec { Type = AlgorithmType.DDP }, steps: 6, replicas: 1);
        using var trainer = Trainer(spec with { Training = spec.Training with { EvalEverySteps = 0 } });
        using var every2 = Trainer(spec with { Training = spec.Training with { EvalEverySteps = 2 } });
        using var noBatches = Trainer(spec with { Training = spec.Training with { EvalEverySteps = 2, EvalBatches = 0 } });

        Assert.DoesNotContain(Enumerable.Range(1, 6), s => trainer.EvaluatesAt(s));
        Assert.Equal([2, 4], Enumerable.Range(1, 6).Where(s => every2.EvaluatesAt(s)));
        Assert.DoesNotContain(Enumerable.Range(1, 6), s => noBatches.EvaluatesAt(s));
    }

    private static ReplicaTrainer Trainer(JobSpec spec)
    {
        random.manual_seed(spec.Training.Seed);
        return new ReplicaTrainer(spec, TokenSources.Create(spec), new InMemoryCollectiveGroup(1)[0], CPU);
    }
}
