using DesLoc.Sync.Math;

namespace DesLoc.Sync.Tests.Math;

public sealed class CounterRandomTests
{
    [Fact]
    public void Uniform_SameInputs_SameDraw() =>
        Assert.Equal(CounterRandom.Uniform(1, 2, 3), CounterRandom.Uniform(1, 2, 3));

    [Fact]
    public void Uniform_ManyDraws_AreInUnitIntervalWithMeanNearHalf()
    {
        double[] draws = Enumerable.Range(0, 20000).Select(i => CounterRandom.Uniform(7, 1, (ulong)i)).ToArray();

        Assert.All(draws, d => Assert.InRange(d, 0, 0.9999999999));
        Assert.Equal(0.5, draws.Average(), 0.01);
    }

    [Fact]
    public void Uniform_DifferentStreams_Differ() =>
        Assert.NotEqual(CounterRandom.Uniform(7, 0, 5), CounterRandom.Uniform(7, 1, 5));
}
