using DesLoc.Contract.Collectives;
using DesLoc.Sync.Accounting;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.Math;
using DesLoc.Transport.Collectives;

namespace DesLoc.Sync.Tests.Algorithms;

public sealed class DctMomentumTests
{
    /// <summary>A 64 x 64 block, 96 x 80 in four 48 x 40 blocks, a prime 1-D tensor (padded), a 3-D tensor, a scalar.</summary>
    private static readonly long[][] s_shapes = [[64, 64], [96, 80], [67], [4, 3, 5], []];
    private static readonly int s_count = (int)TensorBlockLayout.ElementCount(s_shapes);

    /// <summary>One outer round after giving replica r the parameters anchor − delta_r.</summary>
    private static async Task<(DctMomentum[] Strategies, float[][] Deltas)> OneRoundAsync(DctSettings settings, int world)
    {
        var group = new InMemoryCollectiveGroup(world);
        var random = new Random(11);
        var replicas = Enumerable.Range(0, world).Select(_ => new ArrayReplica(s_count)).ToArray();
        var strategies = Enumerable.Range(0, world).Select(r => new DctMomentum(group[r], s_shapes, settings)).ToArray();
        float[][] deltas = new float[world][];
        for (int r = 0; r < world; r++)
        {
            strategies[r].Initialize(replicas[r]);
            deltas[r] = Enumerable.Range(0, s_count).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            for (int i = 0; i < s_count; i++)
            {
                replicas[r][StateKind.Params][i] = -deltas[r][i];   // anchor is 0
            }
        }

        await Task.WhenAll(Enumerable.Range(0, world).Select(r => strategies[r].AfterStepAsync(settings.Period, replicas[r], default).AsTask()));
        return (strategies, deltas);
    }

    /// <summary>topK = a whole 64 x 64 block (every smaller block is sent whole too): the shared momentum is the group mean.</summary>
    [Theory]
    [InlineData(DctSettings.TensorBlocks, 4096, 2)]
    [InlineData(DctSettings.TensorBlocks, 4096, 4)]
    [InlineData(DctSettings.FlatBlocks, 64, 3)]
    public async Task Sync_TopKIsAWholeBlock_MomentumIsTheDenseMeanOnEveryReplica(string blocks, int topK, int world)
    {
        var (strategies, deltas) = await OneRoundAsync(new DctSettings { Period = 1, Blocks = blocks, Chunk = 64, TopK = topK }, world);

        float[][] momenta = [.. strategies.Select(s => s.Momentum())];
        for (int i = 0; i < s_count; i++)
        {
            float mean = deltas.Average(d => d[i]);   // momentum starts at 0, so decay·0 + delta
            foreach (float[] momentum in momenta)
            {
                Assert.Equal(mean, momentum[i], 1e-5f);
            }
        }
    }

    [Theory]
    [InlineData(DctSettings.TensorBlocks, 32)]
    [InlineData(DctSettings.FlatBlocks, 5)]
    public async Task Sync_TopKBelowABlock_ConservesTheGroupsTotalMomentum_AndKeepsResidualsLocal(string blocks, int topK)
    {
        var (strategies, deltas) = await OneRoundAsync(new DctSettings { Period = 1, Blocks = blocks, Chunk = 64, TopK = topK }, 3);

        float[][] momenta = [.. strategies.Select(s => s.Momentum())];
        for (int i = 0; i < s_count; i++)
        {
            Assert.Equal(deltas.Sum(d => d[i]), momenta.Sum(m => m[i]), 1e-4f);
        }

        Assert.NotEqual(momenta[0][0], momenta[1][0]);
    }

    [Fact]
    public async Task Sync_SendsThePayloadOfTheLayout_WithTwoByteIndicesFor64x64Blocks()
    {
        var settings = new DctSettings { Period = 1, Chunk = 64, TopK = 32 };
        var (strategies, _) = await OneRoundAsync(settings, 2);

        // 64x64: 1 block of 4096; 96x80: 4 of 48x40 = 1920 (2-byte indices); 67: 2 chunks of 34; 4x3x5: one 4x15 block; scalar: 1 value.
        long payload = (5 * 32 * (2 + 4)) + (2 * 32 * (1 + 4)) + (32 * (1 + 4)) + (1 * (1 + 4));
        Assert.Equal(payload, strategies[0].Ledger.PayloadBytes(StateKind.Dct));
        Assert.Equal(payload, strategies[0].Ledger.WireBytes(StateKind.Dct));   // a ring all-gather over 2 sends the other one payload
    }

    /// <summary>The reference code's count for one 64 x 64 block, k = 32 (algorithms.md §3.3): 1152 B at W = 2, about 14.2x under DiLoCo.</summary>
    [Theory]
    [InlineData(2, 1152.0, 14.2)]
    [InlineData(4, 2880.0, 8.5)]
    [InlineData(8, 6048.0, 4.7)]
    public void PaperBytesPerSync_IsTheReferencesAccounting(int world, double bytes, double ratioToDiLoCo)
    {
        TensorBlockLayout layout = DctMomentum.LayoutOf(new DctSettings(), [[64, 64]]);

        double paper = DctMomentum.PaperBytesPerSync(layout, 32, world);

        Assert.Equal(bytes, paper, 1e-9);
        Assert.Equal(ratioToDiLoCo, RingTraffic.AllReduceBytes(4096, sizeof(float), world, 0) / paper, 0.05);
    }
}
