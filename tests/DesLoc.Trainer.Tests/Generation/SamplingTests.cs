using DesLoc.Trainer.Generation;

namespace DesLoc.Trainer.Tests.Generation;

/// <summary>Drawing the next token: greedy, top-k, temperature and the seed, without a model.</summary>
public sealed class SamplingTests
{
    private static readonly float[] s_logits = [0.5f, 2.0f, -1.0f, 1.9f, 0.0f, 2.0f];

    [Fact]
    public void TemperatureZero_IsTheFirstLargestLogit()
    {
        Assert.Equal(1, Sampling.Next(s_logits, SamplingSettings.Greedy, new Random(1)));
    }

    [Fact]
    public void TopKOne_IsGreedyWhateverTheTemperatureAndSeed()
    {
        foreach (int seed in Enumerable.Range(0, 50))
        {
            Assert.Equal(1, Sampling.Next(s_logits, new SamplingSettings(5.0, 1), new Random(seed)));
        }
    }

    [Fact]
    public void TopK_NeverDrawsOutsideTheKLikeliest_AndDrawsEachOfThem()
    {
        var random = new Random(11);
        int[] drawn = [.. Enumerable.Range(0, 2000).Select(_ => Sampling.Next(s_logits, new SamplingSettings(10.0, 3), random))];

        Assert.Equal([1, 3, 5], drawn.Distinct().Order());
    }

    [Fact]
    public void FixedSeed_RepeatsTheDraws_AndAnotherSeedDiffers()
    {
        var settings = new SamplingSettings(1.0, 0);
        int[] Draws(int seed)
        {
            var random = new Random(seed);
            return [.. Enumerable.Range(0, 40).Select(_ => Sampling.Next(s_logits, settings, random))];
        }

        Assert.Equal(Draws(7), Draws(7));
        Assert.NotEqual(Draws(7), Draws(8));
    }

    [Fact]
    public void Temperature_SharpensOrFlattensTheDistribution()
    {
        double ShareOfTheTop(double temperature)
        {
            var random = new Random(13);
            return Enumerable.Range(0, 4000).Count(_ => Sampling.Next(s_logits, new SamplingSettings(temperature, 0), random) is 1 or 5) / 4000.0;
        }

        // Tokens 1 and 5 hold softmax(l / T)'s mass 0.60 at T = 1, 0.84 at T = 0.1 and 0.34 (nearly uniform) at T = 100.
        Assert.InRange(ShareOfTheTop(1.0), 0.56, 0.64);
        Assert.InRange(ShareOfTheTop(0.1), 0.80, 0.88);
        Assert.InRange(ShareOfTheTop(100), 0.30, 0.38);
    }
}
