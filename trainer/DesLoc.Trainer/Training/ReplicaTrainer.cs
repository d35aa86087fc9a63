using DesLoc.Contract.Collectives;
using System.Diagnostics;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.Schedule;
using DesLoc.Sync.State;
using DesLoc.Sync.Torch;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Models;
using DesLoc.Transport.Collectives;
using TorchSharp;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Training;

/// <summary>Builds a replica's strategy in place of the spec's (tests use it to plug in an oracle).</summary>
internal delegate ISyncStrategy StrategyFactory(ICollective collective, int parameterCount);

/// <summary>
/// Where a worker sits in its replica (DESIGN.md §6): its index, and the fast tier over which the replica's workers
/// average their gradients every step (none with one worker per replica).
/// </summary>
/// <summary>A held-out loss and the step whose state it measured.</summary>
internal sealed record Evaluation(long Step, double Loss)
{
    /// <summary>exp(loss): the loss in the units of a vocabulary size (1 is perfect; a uniform guess scores the vocabulary).</summary>
    public double Perplexity => Math.Exp(Loss);
}

internal sealed record WorkerPlace(int Index, ICollective? FastTier)
{
    public static WorkerPlace Alone { get; } = new(0, null);

    public int WorkersPerReplica => FastTier?.WorldSize ?? 1;
}

/// <summary>
/// One worker of a replica (with one worker per replica, the replica): its model, AdamW, sync strategy and data stream. Each step's tensor work runs synchronously in
/// its own dispose scope; the strategy's exchanges are awaited between scopes, never inside one.
/// </summary>
internal sealed class ReplicaTrainer : IGatedReplica, IDisposable
{
    private readonly JobSpec _spec;
    private readonly ITokenSource _data;
    private readonly Device _device;
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly MasterWeights? _masterWeights;
    private readonly SyncableAdamW _optimizer;
    private readonly TorchReplica _replica;
    private readonly ISyncStrategy _strategy;
    private readonly LearningRateSchedule _schedule;
    private readonly long[] _inputs;
    private readonly long[] _targets;
    private readonly Stopwatch _syncClock = new();
    private readonly Stopwatch _computeClock = new();
    private readonly Stopwatch _fastTierClock = new();
    private readonly WorkerPlace _place;
    private readonly float[]? _gradients;
    private long _batchesDrawn;
    // The last step the current sync step's exchange trained through: the step itself, or the step its sync landed at.
    private long _trainedThrough;
    // Set by a signal handler, read by the training loop and the gate's timers.
    private long _completedSteps;
    private double _recentLoss = double.NaN;
    private (long SwitchStep, Dictionary<string, int> Periods)? _periodChange;
    // Written by the training loop, read by status and metrics on other threads: a reference swap is atomic.
    private Evaluation? _lastEvaluation;

    /// <summary>Builds the replica; the caller seeds torch's generator first so every replica starts from the same model.</summary>
    public ReplicaTrainer(JobSpec spec, ITokenSource data, ICollective collective, Device device, StrategyFactory? strategyFactory = null, WorkerPlace? place = null)
    {
        _place = place ?? WorkerPlace.Alone;
        _spec = spec;
        _data = data;
        _device = device;
        Rank = collective.Rank;
        _model = LanguageModels.Create(spec.Model, spec.Model.Vocab ?? data.Vocab);
        _model.to(device);
        TrainingSpec training = spec.Training;
        // bf16: the optimizer, the sync algorithms, heal and checkpoints all see the float32 master weights.
        _masterWeights = training.Precision == TrainingSpec.Bf16 ? new MasterWeights(_model) : null;
        _optimizer = new SyncableAdamW(_masterWeights?.Parameters ?? _model.parameters(), new AdamWSettings(training.Beta1, training.Beta2, 1e-8, training.WeightDecay));
        _replica = new TorchReplica(_optimizer);
        _strategy = strategyFactory?.Invoke(collective, _replica.ParameterCount)
            ?? SyncStrategies.Create(spec.Algorithm, collective, _replica.Shapes, (ulong)training.Seed, spec.Sync.OverlapSteps);
        if (spec.Sync.OverlapSteps is not null && _place.FastTier is not null)
        {
            // The steps trained while a sync is in flight skip the gate, and with it the regrouping a lost sibling needs.
            throw new ArgumentException("sync.overlapSteps needs workersPerReplica 1.", nameof(spec));
        }

        _schedule = new LearningRateSchedule(training.LearningRate, training.WarmupSteps, training.Steps, training.MinLearningRateRatio);
        _inputs = new long[training.BatchSize * spec.Model.Context];
        _targets = new long[_inputs.Length];
        _gradients = _place.FastTier is null ? null : new float[_replica.ParameterCount];
    }

    /// <summary>The replica this worker belongs to.</summary>
    public int Rank { get; }

    public int Worker => _place.Index;

    public int ParameterCount => _replica.ParameterCount;

    public IReplicaState State => _replica;

    public CommunicationLedger Ledger => _strategy.Ledger;

    /// <summary>Steps completed (read by the progress display from another thread).</summary>
    public long Step => Interlocked.Read(ref _completedSteps);

    /// <summary>Mean training loss over the recent gradient steps (an exponential average).</summary>
    public double RecentLoss => Volatile.Read(ref _recentLoss);

    /// <summary>The model itself (to export it once training is over).</summary>
    public nn.Module<Tensor, Tensor> Model => _model;

    /// <summary>
    /// The model's weights by parameter name as training holds them: with bf16 the float32 master weights (the model's
    /// bfloat16 copy is rounded, and refreshed only before the next forward pass), else the model's own.
    /// </summary>
    public IEnumerable<(string Name, Tensor Weight)> NamedWeights() => _masterWeights is null
        ? _model.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
        : _model.named_parameters().Zip(_masterWeights.Parameters, (p, master) => (p.name, (Tensor)master));

    /// <summary>The latest held-out loss this worker computed, if any (during training or at its end).</summary>
    public Evaluation? LastEvaluation => Volatile.Read(ref _lastEvaluation);

    /// <summary>Raised on the training loop's thread after each evaluation during training and at its end.</summary>
    public event Action<Evaluation>? Evaluated;

    public TimeSpan SyncTime => _syncClock.Elapsed;

    public TimeSpan ComputeTime => _computeClock.Elapsed;

    /// <summary>Time spent averaging gradients inside the replica.</summary>
    public TimeSpan FastTierTime => _fastTierClock.Elapsed;

    public ISyncStrategy Strategy => _strategy;

    public (long SwitchStep, IReadOnlyDictionary<string, int> Periods)? PendingPeriodChange =>
        _periodChange is { } change ? (change.SwitchStep, change.Periods) : null;

    public void SchedulePeriods(long switchStep, IReadOnlyDictionary<string, int> periods) =>
        _periodChange = (switchStep, new Dictionary<string, int>(periods));

    public Task RunAsync(CancellationToken cancellationToken) => RunAsync(DirectGate.Instance, CancellationToken.None, cancellationToken);

    /// <summary>
    /// Trains to the last step through <paramref name="gate"/>. <paramref name="stopping"/> (SIGTERM) stops at the next
    /// step boundary, the current round finished first, so the state is always that of a whole step;
    /// <paramref name="cancellationToken"/> aborts at once.
    /// </summary>
    public async Task RunAsync(ISyncGate gate, CancellationToken stopping, CancellationToken cancellationToken)
    {
        ResumePoint? start = await gate.StartAsync(this, stopping, cancellationToken);
        if (start is null)
        {
            _strategy.Initialize(_replica);
        }

        (long step, Stage stage) = start is { } point ? Continue(point) : (1, Stage.Compute);
        Interlocked.Exchange(ref _completedSteps, step - 1);
        // A stop request is honoured only between steps, so a checkpoint always holds a whole step.
        while (step <= _spec.Training.Steps && !(stopping.IsCancellationRequested && stage == Stage.Compute))
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (stage)
            {
                case Stage.Compute:
                    ApplyPeriodChangeAt(step);
                    stage = Compute(step);
                    break;
                case Stage.FastTier:
                    if (await AverageGradientsInReplicaAsync(cancellationToken))
                    {
                        stage = Stage.AfterBackward;
                        break;
                    }

                    // A sibling is gone: the step is redone (its batch drawn again) once the replica is whole.
                    _batchesDrawn--;
                    ResumePoint? regrouped;
                    try
                    {
                        regrouped = await gate.RegroupAsync(this, step, stopping, cancellationToken);
                    }
                    catch (StoppedAtSyncPointException)
                    {
                        return;
                    }

                    (step, stage) = regrouped is { } healed ? Continue(healed) : (step, Stage.Compute);
                    Interlocked.Exchange(ref _completedSteps, step - 1);
                    break;
                case Stage.AfterBackward:
                    SyncPhase backward = SyncPhase.AfterBackward;
                    ResumePoint? healedInBackward;
                    try
                    {
                        healedInBackward = await ExchangeAsync(gate, step, backward, stopping, cancellationToken);
                    }
                    catch (StoppedAtSyncPointException)
                    {
                        // This step's gradients are dropped, and its batch is handed back (drawn again on resume):
                        // the state is that of the last whole step.
                        _batchesDrawn--;
                        return;
                    }

                    if (healedInBackward is { } healedBeforeStep)
                    {
                        (step, stage) = Continue(healedBeforeStep);
                        Interlocked.Exchange(ref _completedSteps, step - 1);
                        break;
                    }

                    OptimizerStepAt(step);
                    stage = Stage.AfterStep;
                    break;
                case Stage.AfterStep:
                    ResumePoint? healedInStep;
                    _trainedThrough = step;
                    try
                    {
                        healedInStep = await ExchangeAsync(gate, step, SyncPhase.AfterStep, stopping, cancellationToken);
                    }
                    catch (StoppedAtSyncPointException)
                    {
                        // This step's update is applied and its sync skipped (the round could not form): stop after it.
                        Interlocked.Exchange(ref _completedSteps, step);
                        return;
                    }

                    if (healedInStep is { } healedAfterStep)
                    {
                        (step, stage) = Continue(healedAfterStep);
                        Interlocked.Exchange(ref _completedSteps, step - 1);
                        break;
                    }

                    long last = _trainedThrough;
                    Interlocked.Exchange(ref _completedSteps, last);
                    gate.StepsCompleted(this, step, last);
                    // Steps trained while a sync was in flight were evaluated there.
                    if (last == step && EvaluatesAt(step))
                    {
                        EvaluateAt(step);
                    }

                    step = last + 1;
                    stage = Stage.Compute;
                    break;
            }
        }
    }

    /// <summary>The replica's whole state at the start of (step, phase): what heal, rollback and checkpoints carry.</summary>
    public StateBundle ExportState(Position position)
    {
        var bundle = new StateBundle();
        bundle.SetLongs("position", position.Step, (long)position.Phase);
        bundle.SetLongs("replica.updates", _optimizer.UpdateCount);
        float[] buffer = new float[_replica.ParameterCount];
        foreach ((StateKind kind, string name) in s_sections)
        {
            if (kind == StateKind.Grads && position.Phase != SyncPhase.AfterBackward)
            {
                continue;
            }

            _replica.CopyTo(kind, buffer);
            bundle.SetFloats(name, buffer);
        }

        _strategy.ExportState(bundle);
        if (_periodChange is { } change)
        {
            bundle.SetLongs("periods.change.switch", change.SwitchStep);
            foreach ((string state, int period) in change.Periods)
            {
                bundle.SetLongs($"periods.change.{state}", period);
            }
        }

        return bundle;
    }

    /// <summary>Replaces this replica's state with a bundle's and returns the position it was taken at.</summary>
    public Position ImportState(StateBundle bundle)
    {
        long[] position = bundle.Longs("position");
        var at = new Position(position[0], (SyncPhase)position[1]);
        // Recomputed, not imported: the bundle may be a peer's, whose PALSGD coins (and so its batch count) differ.
        _batchesDrawn = BatchesDrawnAt(at);
        _optimizer.UpdateCount = bundle.Scalar("replica.updates");
        foreach ((StateKind kind, string name) in s_sections)
        {
            if (bundle.Has(name))
            {
                float[] values = bundle.Floats(name);
                if (values.Length != _replica.ParameterCount)
                {
                    throw new InvalidDataException($"State '{name}' has {values.Length} values; this model has {_replica.ParameterCount} parameters.");
                }

                _replica.CopyFrom(kind, values);
            }
        }

        _strategy.ImportState(bundle);
        _periodChange = null;
        if (bundle.Has("periods.change.switch"))
        {
            Dictionary<string, int> periods = _strategy.Periods.Keys.Where(k => bundle.Has($"periods.change.{k}"))
                .ToDictionary(k => k, k => (int)bundle.Scalar($"periods.change.{k}"));
            _periodChange = (bundle.Scalar("periods.change.switch"), periods);
        }

        return at;
    }

    /// <summary>Batches this worker has drawn at its next batch's draw: the data position, which heal and resume restore.</summary>
    public long BatchesDrawn => _batchesDrawn;

    /// <summary>
    /// Batches this replica has drawn by (step, phase): one per gradient step before the step, and the step's own once
    /// its backward pass ran (a position at the start of a step has not drawn it). A pure function of the strategy's
    /// plan, itself one of (seed, rank, step), so it is the same whether the state came from this replica's checkpoint or
    /// from a peer that took its gradient steps at other steps.
    /// </summary>
    private long BatchesDrawnAt(Position position)
    {
        long drawn = 0;
        for (long step = 1; step < position.Step; step++)
        {
            drawn += _strategy.Plan(step).TakesGradientStep ? 1 : 0;
        }

        bool stepDrawn = position.Phase is SyncPhase.AfterBackward or SyncPhase.AfterStep && _strategy.Plan(position.Step).TakesGradientStep;
        return drawn + (stepDrawn ? 1 : 0);
    }

    private static readonly (StateKind Kind, string Name)[] s_sections =
    [
        (StateKind.Params, "replica.params"),
        (StateKind.M1, "replica.m1"),
        (StateKind.M2, "replica.m2"),
        (StateKind.Grads, "replica.grads"),
    ];

    private Stage Compute(long step)
    {
        StepPlan plan = _strategy.Plan(step);
        if (plan.TakesGradientStep)
        {
            _computeClock.Start();
            float loss = ForwardBackward();
            _computeClock.Stop();
            RecordLoss(loss);
            return _place.FastTier is null ? Stage.AfterBackward : Stage.FastTier;
        }

        _strategy.PseudoSync(step, _schedule.At(step), _replica);
        return Stage.AfterStep;
    }

    private async Task<ResumePoint?> ExchangeAsync(ISyncGate gate, long step, SyncPhase phase, CancellationToken stopping, CancellationToken cancellationToken)
    {
        _syncClock.Start();
        try
        {
            Func<Task> exchange = phase == SyncPhase.AfterBackward
                ? () => _strategy.AfterBackwardAsync(step, _replica, cancellationToken).AsTask()
                : async () =>
                {
                    await _strategy.AfterStepAsync(step, _replica, cancellationToken);
                    _trainedThrough = await TrainWhileInFlightAsync(step, cancellationToken);
                };
            return _strategy.ExchangesAt(step, phase)
                ? await gate.ExchangeAsync(this, step, phase, exchange, stopping, cancellationToken)
                : await DirectGate.Instance.ExchangeAsync(this, step, phase, exchange, stopping, cancellationToken);
        }
        finally
        {
            _syncClock.Stop();
        }
    }

    /// <summary>
    /// Trains on while the sync begun at <paramref name="step"/> is in flight (<c>sync.overlapSteps</c>), through the step
    /// it lands at, and returns the last step trained (<paramref name="step"/> when nothing is in flight). It runs inside
    /// the gate's exchange of <paramref name="step"/>: its round commits only once the sync landed, and a failure rolls the
    /// replica back to <paramref name="step"/>, so the steps are trained again with the survivors and nothing of the
    /// failed sync is kept. Nothing else exchanges meanwhile (a sync lands before the next begins: early, when a period
    /// change brings the next sync closer, or at the last step); no snapshot or checkpoint is taken (the gate writes a
    /// checkpoint due meanwhile at the landing step), and a stop waits for the landing. Only the wait at the landing counts
    /// as sync time.
    /// </summary>
    private async Task<long> TrainWhileInFlightAsync(long step, CancellationToken cancellationToken)
    {
        if (_strategy.LandsAt is null)
        {
            return step;
        }

        _syncClock.Stop();
        try
        {
            if (EvaluatesAt(step))
            {
                EvaluateAt(step);
            }

            while (_strategy.LandsAt is not null)
            {
                long next = step + 1;
                if (next <= _spec.Training.Steps)
                {
                    ApplyPeriodChangeAt(next);
                }

                if (next > _spec.Training.Steps || _strategy.ExchangesAt(next, SyncPhase.AfterBackward) || _strategy.ExchangesAt(next, SyncPhase.AfterStep))
                {
                    _syncClock.Start();
                    await _strategy.LandAsync(_replica, cancellationToken);
                    _syncClock.Stop();
                    break;
                }

                step = next;
                if (Compute(step) == Stage.AfterBackward)
                {
                    await _strategy.AfterBackwardAsync(step, _replica, cancellationToken);
                    OptimizerStepAt(step);
                }

                _syncClock.Start();
                await _strategy.AfterStepAsync(step, _replica, cancellationToken);
                _syncClock.Stop();
                Interlocked.Exchange(ref _completedSteps, step);
                if (EvaluatesAt(step))
                {
                    EvaluateAt(step);
                }
            }

            return step;
        }
        finally
        {
            _syncClock.Start();
        }
    }

    private void ApplyPeriodChangeAt(long step)
    {
        if (_periodChange is { } change && step >= change.SwitchStep)
        {
            _strategy.SetPeriods(change.Periods);
            _periodChange = null;
        }
    }

    private static (long Step, Stage Stage) Continue(ResumePoint point) => point.Phase switch
    {
        null => (point.Step, Stage.Compute),
        SyncPhase.AfterBackward => (point.Step, Stage.AfterBackward),
        _ => (point.Step, Stage.AfterStep),
    };

    /// <summary>
    /// The fast tier: the replica's workers average their gradients, so they take one update on the replica's whole
    /// batch and stay identical. It runs before the step's sync point, so a snapshot taken there (heal, rollback)
    /// already holds the replica's gradients. False when the round failed (a sibling is gone): nothing was applied,
    /// parameters and moments are still those of the previous step (DESIGN.md §6).
    /// </summary>
    private async Task<bool> AverageGradientsInReplicaAsync(CancellationToken cancellationToken)
    {
        _fastTierClock.Start();
        try
        {
            _replica.CopyTo(StateKind.Grads, _gradients);
            long wire = await _place.FastTier!.AllReduceMeanAsync(_gradients, cancellationToken);
            _replica.CopyFrom(StateKind.Grads, _gradients);
            Ledger.Record(Tier.Intra, StateKind.Grads, (long)_replica.ParameterCount * sizeof(float), wire);
            return true;
        }
        catch (RoundFailedException)
        {
            return false;
        }
        finally
        {
            _fastTierClock.Stop();
        }
    }

    private void OptimizerStepAt(long step)
    {
        _computeClock.Start();
        OptimizerStep(_schedule.At(step) * _strategy.Plan(step).LearningRateScale);
        _computeClock.Stop();
    }

    private enum Stage
    {
        Compute,
        FastTier,
        AfterBackward,
        AfterStep,
    }

    /// <summary>
    /// Whether this worker evaluates after <paramref name="step"/>: every training.evalEverySteps steps, worker 0 of
    /// each replica only (its siblings hold the same model). The last step's evaluation is the caller's.
    /// </summary>
    public bool EvaluatesAt(long step) =>
        _place.Index == 0 && _spec.Training.EvalEverySteps > 0 && _spec.Training.EvalBatches > 0
        && step < _spec.Training.Steps && step % _spec.Training.EvalEverySteps == 0;

    /// <summary>Evaluates the current state as that of <paramref name="step"/>, records it and raises <see cref="Evaluated"/>.</summary>
    public Evaluation EvaluateAt(long step)
    {
        var evaluation = new Evaluation(step, Evaluate());
        Volatile.Write(ref _lastEvaluation, evaluation);
        Evaluated?.Invoke(evaluation);
        return evaluation;
    }

    /// <summary>Mean cross-entropy over the held-out batches, without gradients.</summary>
    public double Evaluate() => Evaluate(0, _spec.Training.EvalBatches);

    /// <summary>
    /// Mean cross-entropy over held-out batches <paramref name="firstBatch"/>.. (<paramref name="batches"/> of them), without
    /// gradients: disjoint ranges give a benchmark separate validation and test streams.
    /// </summary>
    public double Evaluate(long firstBatch, int batches)
    {
        if (batches == 0)
        {
            return double.NaN;
        }

        double total = 0;
        _masterWeights?.CopyToModel();
        _model.eval();
        using (no_grad())
        {
            for (long index = firstBatch; index < firstBatch + batches; index++)
            {
                using var scope = NewDisposeScope();
                _data.EvalBatch(index, _inputs, _targets);
                total += Loss().item<float>();
            }
        }

        _model.train();
        return total / batches;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _masterWeights?.Dispose();
        _model.Dispose();
    }

    /// <summary>
    /// The step's gradient over the worker's micro-batches (rows (w·M + m)·b.. of the replica's batch), each loss scaled
    /// by 1/M so the accumulated gradient is the mean over all of them; one dispose scope per micro-batch, so only one
    /// micro-batch's activations are alive at a time. Returns the mean loss.
    /// </summary>
    private float ForwardBackward()
    {
        int micro = _spec.Training.MicroBatches;
        int rows = _spec.Training.BatchSize;
        long index = _batchesDrawn++;
        using (NewDisposeScope())
        {
            _optimizer.ZeroGrad();   // in a scope: the in-place op's result wrappers are freed with it
        }

        // The master weights may have moved since the last pass (the optimizer, a sync, a heal).
        _masterWeights?.CopyToModel();
        float total = 0;
        // Held alive across the native calls (see Scalars).
        using Scalar scale = (1.0 / micro).ToScalar();
        for (int m = 0; m < micro; m++)
        {
            using var scope = NewDisposeScope();
            _data.TrainBatch(Rank, index, ((_place.Index * micro) + m) * rows, _inputs, _targets);
            Tensor loss = Loss();
            (micro == 1 ? loss : loss.mul(scale)).backward();
            _masterWeights?.AccumulateGradients();
            total += loss.item<float>();
        }

        return total / micro;
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
        // The loss in float32 whatever the model computes in: log-softmax over the vocabulary needs the mantissa.
        Tensor logits = _model.call(inputs).to(ScalarType.Float32);
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1));
    }

    private void RecordLoss(float loss)
    {
        double previous = _recentLoss;
        Volatile.Write(ref _recentLoss, double.IsNaN(previous) ? loss : 0.9 * previous + 0.1 * loss);
    }
}
