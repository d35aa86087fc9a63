using DesLoc.Contract.Collectives;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Math;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// PALSGD (H, p, eta): DDP for the first <c>warmupSteps</c> steps, then DiLoCo in which each step is, with
/// probability p, a pseudo-sync step <c>x -= (lr·eta/p)·(x − anchor)</c> that uses no data and no network
/// (a proximal pull toward the last global model); other steps are gradient steps at lr/(1−p), so one step
/// is in expectation a gradient step plus <c>lr·eta·(x − anchor)</c>. 1/H model sizes per step after warm-up.
/// </summary>
/// <remarks>
/// Decisions, against the reference code's pitfalls: each replica draws its own coin (the paper's
/// Algorithm 1; the code seeds every rank alike, so all ranks pseudo-sync together); draws are a pure function
/// of (seed, rank, step), so a healed replica draws what it would have; exactly one outer step per H steps;
/// a pseudo-sync step leaves the AdamW moments and their update count untouched; the anchor is a copy,
/// never an alias of the parameters. Outer rounds fall at warm-up + k·H.
/// </remarks>
public sealed class Palsgd(ICollective collective, int parameterCount, PalsgdSettings settings, ulong seed)
    : OuterOptimizerStrategy(collective, parameterCount, settings.Period, settings.OuterLr, settings.OuterMomentum)
{
    private readonly PalsgdSettings _settings = settings;
    private readonly ulong _seed = seed;

    public override StepPlan Plan(long step)
    {
        if (step <= _settings.WarmupSteps || _settings.Probability == 0)
        {
            return StepPlan.Gradient;
        }

        double draw = CounterRandom.Uniform(_seed, (ulong)Collective.Rank, (ulong)step);
        return draw < _settings.Probability
            ? new StepPlan(TakesGradientStep: false, LearningRateScale: 0)
            : new StepPlan(TakesGradientStep: true, LearningRateScale: 1.0 / (1.0 - _settings.Probability));
    }

    public override ValueTask AfterBackwardAsync(long step, IReplicaState replica, CancellationToken cancellationToken) =>
        step <= _settings.WarmupSteps ? AverageAsync(StateKind.Grads, replica, cancellationToken) : ValueTask.CompletedTask;

    public override void PseudoSync(long step, double learningRate, IReplicaState replica)
    {
        float pull = (float)(learningRate * _settings.Eta / _settings.Probability);
        replica.CopyTo(StateKind.Params, Scratch);
        float[] anchor = Outer.Anchor;
        for (int i = 0; i < Scratch.Length; i++)
        {
            Scratch[i] -= pull * (Scratch[i] - anchor[i]);
        }

        replica.CopyFrom(StateKind.Params, Scratch);
    }

    public override bool ExchangesAt(long step, SyncPhase phase) => phase switch
    {
        SyncPhase.AfterBackward => step <= _settings.WarmupSteps,
        SyncPhase.AfterStep => step > _settings.WarmupSteps && IsMultiple(step - _settings.WarmupSteps, OuterPeriod),
        _ => false,
    };

    protected override async ValueTask SyncAfterStepAsync(long step, IReplicaState replica, CancellationToken cancellationToken)
    {
        if (step == _settings.WarmupSteps)
        {
            // DDP kept the replicas identical, so the anchor is the shared model: no exchange needed.
            replica.CopyTo(StateKind.Params, Outer.Anchor);
        }
        else if (step > _settings.WarmupSteps && IsMultiple(step - _settings.WarmupSteps, OuterPeriod))
        {
            await OuterStepAsync(replica, cancellationToken);
        }
    }
}
