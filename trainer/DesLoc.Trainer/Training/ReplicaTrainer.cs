using System.Diagnostics;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.Schedule;
using DesLoc.Sync.Torch;
using DesLoc.Trainer.Configuration;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Models;
using DesLoc.Transport.Collectives;
using TorchSharp;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Training;

/// <summary>Builds a replica's strategy in place of the spec's (tests use it to plug in an oracle).</summary>
internal delegate ISyncStrategy StrategyFactory(ICollective collective, int parameterCount);

/// <summary>
/// One replica: its model, AdamW, sync strategy and data stream. Each step's tensor work runs synchronously in
/// its own dispose scope; the strategy's exchanges are awaited between scopes, never inside one.
/// </summary>
internal sealed class ReplicaTrainer : IDisposable
{
    private readonly JobSpec _spec;
    private readonly ITokenSource _data;
    private readonly Device _device;
    private readonly Gpt _model;
    private readonly SyncableAdamW _optimizer;
    private readonly TorchReplica _replica;
    private readonly ISyncStrategy _strategy;
    private readonly LearningRateSchedule _schedule;
    private readonly long[] _inputs;
    private readonly long[] _targets;
    private readonly Stopwatch _syncClock = new();
    private readonly Stopwatch _computeClock = new();
    private long _batchesDrawn;
    private long _completedSteps;
    private double _recentLoss = double.NaN;

    /// <summary>Builds the replica; the caller seeds torch's generator first so every replica starts from the same model.</summary>
    public ReplicaTrainer(JobSpec spec, ITokenSource data, ICollective collective, Device device, StrategyFactory? strategyFactory = null)
    {
        _spec = spec;
        _data = data;
        _device = device;
        Rank = collective.Rank;
        _model = new Gpt(spec.Model, spec.Model.Vocab ?? data.Vocab);
        _model.to(device);
        TrainingSpec training = spec.Training;
        _optimizer = new SyncableAdamW(_model.parameters(), new AdamWSettings(training.Beta1, training.Beta2, 1e-8, training.WeightDecay));
        _replica = new TorchReplica(_optimizer);
        _strategy = strategyFactory?.Invoke(collective, _replica.ParameterCount)
            ?? SyncStrategies.Create(spec.Algorithm, collective, _replica.ParameterCount, (ulong)training.Seed);
        _schedule = new LearningRateSchedule(training.LearningRate, training.WarmupSteps, training.Steps, training.MinLearningRateRatio);
        _inputs = new long[training.BatchSize * spec.Model.Context];
        _targets = new long[_inputs.Length];
    }

    public int Rank { get; }

    public int ParameterCount => _replica.ParameterCount;

    public IReplicaState State => _replica;

    public CommunicationLedger Ledger => _strategy.Ledger;

    /// <summary>Steps completed (read by the progress display from another thread).</summary>
    public long Step => Interlocked.Read(ref _completedSteps);

    /// <summary>Mean training loss over the recent gradient steps (an exponential average).</summary>
    public double RecentLoss => Volatile.Read(ref _recentLoss);

    public TimeSpan SyncTime => _syncClock.Elapsed;

    public TimeSpan ComputeTime => _computeClock.Elapsed;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _strategy.Initialize(_replica);
        for (long step = 1; step <= _spec.Training.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double learningRate = _schedule.At(step);
            StepPlan plan = _strategy.Plan(step);
            if (plan.TakesGradientStep)
            {
                _computeClock.Start();
                float loss = ForwardBackward();
                _computeClock.Stop();
                RecordLoss(loss);

                _syncClock.Start();
                await _strategy.AfterBackwardAsync(step, _replica, cancellationToken);
                _syncClock.Stop();

                _computeClock.Start();
                OptimizerStep(learningRate * plan.LearningRateScale);
                _computeClock.Stop();
            }
            else
            {
                _strategy.PseudoSync(step, learningRate, _replica);
            }

            _syncClock.Start();
            await _strategy.AfterStepAsync(step, _replica, cancellationToken);
            _syncClock.Stop();
            Interlocked.Exchange(ref _completedSteps, step);
        }
    }

    /// <summary>Mean cross-entropy over the held-out batches, without gradients.</summary>
    public double Evaluate()
    {
        if (_spec.Training.EvalBatches == 0)
        {
            return double.NaN;
        }

        double total = 0;
        _model.eval();
        using (no_grad())
        {
            for (int index = 0; index < _spec.Training.EvalBatches; index++)
            {
                using var scope = NewDisposeScope();
                _data.EvalBatch(index, _inputs, _targets);
                total += Loss().item<float>();
            }
        }

        _model.train();
        return total / _spec.Training.EvalBatches;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }

    private float ForwardBackward()
    {
        using var scope = NewDisposeScope();
        _optimizer.ZeroGrad();
        _data.TrainBatch(Rank, _batchesDrawn++, _inputs, _targets);
        Tensor loss = Loss();
        loss.backward();
        return loss.item<float>();
    }

    private void OptimizerStep(double learningRate)
    {
        using var scope = NewDisposeScope();
        _optimizer.ClipGradNorm(_spec.Training.GradClip);
        _optimizer.Step(learningRate);
    }

    private Tensor Loss()
    {
        long[] shape = [_spec.Training.BatchSize, _spec.Model.Context];
        Tensor inputs = tensor(_inputs, shape).to(_device);
        Tensor targets = tensor(_targets, shape).to(_device);
        Tensor logits = _model.call(inputs);
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1));
    }

    private void RecordLoss(float loss)
    {
        double previous = _recentLoss;
        Volatile.Write(ref _recentLoss, double.IsNaN(previous) ? loss : 0.9 * previous + 0.1 * loss);
    }
}
