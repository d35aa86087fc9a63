using DesLoc.Contract.Collectives;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Math;

namespace DesLoc.Sync.Algorithms;

/// <summary>
/// PALSGD (H, p, eta): DiLoCo in which each step is, with probability p, a pseudo-sync step
/// <c>x -= (lr·eta/p)·(x − anchor)</c> that uses no data and no network (a proximal pull toward the last global
/// model); other steps are gradient steps at lr/(1−p), so one step is in expectation a gradient step plus
/// <c>lr·eta·(x − anchor)</c>. 1/H model sizes per step. The paper's DDP warm-up is the shared
/// <see cref="AlgorithmSpec.DdpWarmupSteps"/>, as for every local method, so its bytes are counted apart (as gradients).
/// </summary>
/// <remarks>
/// Decisions, against the reference code's pitfalls: each replica draws its own coin (the paper's
/// Algorithm 1; the code seeds every rank alike, so all ranks pseudo-sync together); draws are a pure function
/// of (seed, rank, local step), so a healed replica draws what it would have; exactly one outer step per H steps;
/// a pseudo-sync step leaves the AdamW moments and their update count untouched; the anchor is a copy,
/// never an alias of the parameters. A pseudo-sync step draws no batch: at equal steps PALSGD trains on about
/// (1 − p) of the others' tokens, which a fair comparison has to make up. With overlap, a pseudo-sync step taken while a
/// sync is in flight pulls toward the anchor of the last sync that landed.
/// </remarks>
public sealed class Palsgd(ICollective collective, int parameterCount, PalsgdSettings settings, ulong seed, int ddpWarmupSteps = 0)
    : OuterOptimizerStrategy(collective, parameterCount, settings.Period, settings.OuterLr, settings.OuterMomentum, ddpWarmupSteps)
{
    private readonly PalsgdSettings _settings = settings;
    private readonly ulong _seed = seed;

    protected override StepPlan PlanLocal(long localStep)
    {
        if (_settings.Probability == 0)
        {
            return StepPlan.Gradient;
        }

        double draw = CounterRandom.Uniform(_seed, (ulong)Collective.Rank, (ulong)localStep);
        return draw < _settings.Probability
            ? new StepPlan(TakesGradientStep: false, LearningRateScale: 0)
            : new StepPlan(TakesGradientStep: true, LearningRateScale: 1.0 / (1.0 - _settings.Probability));
    }

    protected override void PseudoSyncLocal(long localStep, double learningRate, IReplicaState replica)
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

    protected override bool ExchangesAtLocal(long localStep, SyncPhase phase) => phase == SyncPhase.AfterStep && IsMultiple(localStep, OuterPeriod);

    protected override SyncRound? BeginSync(long localStep, IReplicaState replica, CancellationToken cancellationToken) =>
        IsMultiple(localStep, OuterPeriod) ? BeginOuterSync(replica, cancellationToken) : null;
}
