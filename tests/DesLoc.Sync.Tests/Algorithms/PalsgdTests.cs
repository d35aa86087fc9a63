using DesLoc.Sync.Algorithms;
using DesLoc.Transport.Collectives;

namespace DesLoc.Sync.Tests.Algorithms;

public sealed class PalsgdTests
{
    private static Palsgd Create(int rank, int world, double probability, int warmup = 0) =>
        new(new InMemoryCollectiveGroup(world)[rank], 10, new PalsgdSettings { Probability = probability }, seed: 5, ddpWarmupSteps: warmup);

    [Fact]
    public void Plan_ProbabilityZero_AlwaysAFullGradientStep()
    {
        Palsgd palsgd = Create(0, 1, probability: 0);

        Assert.All(Enumerable.Range(1, 500), step => Assert.Equal(StepPlan.Gradient, palsgd.Plan(step)));
    }

    [Fact]
    public void Plan_AfterWarmup_PseudoSyncsAboutPOfStepsAndScalesTheOthers()
    {
        Palsgd palsgd = Create(0, 1, probability: 0.2, warmup: 100);

        StepPlan[] warmup = Enumerable.Range(1, 100).Select(s => palsgd.Plan(s)).ToArray();
        StepPlan[] after = Enumerable.Range(101, 10000).Select(s => palsgd.Plan(s)).ToArray();

        Assert.All(warmup, p => Assert.Equal(StepPlan.Gradient, p));
        Assert.Equal(0.2, after.Count(p => !p.TakesGradientStep) / 10000.0, 0.02);
        Assert.All(after.Where(p => p.TakesGradientStep), p => Assert.Equal(1.25, p.LearningRateScale, 12));
    }

    [Fact]
    public void Plan_EachReplicaDrawsItsOwnCoin()
    {
        Palsgd first = Create(0, 2, probability: 0.5);
        Palsgd second = Create(1, 2, probability: 0.5);

        int disagreements = Enumerable.Range(1, 200).Count(s => first.Plan(s).TakesGradientStep != second.Plan(s).TakesGradientStep);

        Assert.InRange(disagreements, 50, 150);
    }
}
