using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Transport.Collectives;

namespace DesLoc.Sync.Tests.Algorithms;

public sealed class DctMomentumTests
{
    private const int P = 200;   // pads to 4 chunks of 64
    private const int W = 3;

    /// <summary>One outer round after giving replica r the parameters anchor − delta_r.</summary>
    private static async Task<(DctMomentum[] Strategies, float[][] Deltas)> OneRoundAsync(DctSettings settings)
    {
        var group = new InMemoryCollectiveGroup(W);
        var random = new Random(11);
        var replicas = Enumerable.Range(0, W).Select(_ => new ArrayReplica(P)).ToArray();
        var strategies = Enumerable.Range(0, W).Select(r => new DctMomentum(group[r], P, settings)).ToArray();
        float[][] deltas = new float[W][];
        for (int r = 0; r < W; r++)
        {
            strategies[r].Initialize(replicas[r]);
            deltas[r] = Enumerable.Range(0, P).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            for (int i = 0; i < P; i++)
            {
                replicas[r][StateKind.Params][i] = -deltas[r][i];   // anchor is 0
            }
        }

        await Task.WhenAll(Enumerable.Range(0, W).Select(r => strategies[r].AfterStepAsync(settings.Period, replicas[r], default).AsTask()));
        return (strategies, deltas);
    }

    [Fact]
    public async Task Sync_TopKEqualsChunk_MomentumIsTheDenseMeanOnEveryReplica()
    {
        var (strategies, deltas) = await OneRoundAsync(new DctSettings { Period = 1, Chunk = 64, TopK = 64 });

        for (int i = 0; i < P; i++)
        {
            float mean = deltas.Average(d => d[i]);   // momentum starts at 0, so decay·0 + delta
            foreach (DctMomentum strategy in strategies)
            {
                Assert.Equal(mean, strategy.Momentum[i], 1e-5f);
            }
        }
    }

    [Fact]
    public async Task Sync_TopKBelowChunk_ConservesTheGroupsTotalMomentum()
    {
        var (strategies, deltas) = await OneRoundAsync(new DctSettings { Period = 1, Chunk = 64, TopK = 5 });

        for (int i = 0; i < P; i++)
        {
            float before = deltas.Sum(d => d[i]);
            float after = strategies.Sum(s => s.Momentum[i]);
            Assert.Equal(before, after, 1e-4f);
        }

        Assert.NotEqual(strategies[0].Momentum[0], strategies[1].Momentum[0]);   // the residual stays local
    }
}
