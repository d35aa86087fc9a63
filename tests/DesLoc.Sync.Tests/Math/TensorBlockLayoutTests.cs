using DesLoc.Sync.Math;

namespace DesLoc.Sync.Tests.Math;

public sealed class TensorBlockLayoutTests
{
    [Theory]
    [InlineData(96, 64, 48, 96)]        // divisors of 96 up to 64: 48 is the largest
    [InlineData(80, 64, 40, 80)]
    [InlineData(768, 64, 64, 768)]
    [InlineData(100, 64, 50, 100)]
    [InlineData(32, 64, 32, 32)]        // shorter than the chunk: the dimension itself
    [InlineData(64, 64, 64, 64)]
    [InlineData(67, 64, 34, 68)]        // prime: divisor 1, so two equal blocks, padded by one
    [InlineData(50257, 64, 64, 50304)]  // GPT-2's vocabulary: divisor 29, so 786 blocks of 64
    [InlineData(75, 64, 38, 76)]        // divisor 25 is under half the chunk
    [InlineData(96, 48, 48, 96)]
    public void Cut_TakesTheLargestDivisorUpToTheChunk_ElseEqualPaddedBlocks(int length, int chunk, int block, int padded) =>
        Assert.Equal((block, padded), TensorBlockLayout.Cut(length, chunk));

    [Fact]
    public void PerTensor_CutsEachTensorAlone_2DAsRowsByColumns_1DAsOneRow_MoreDimsAsDim0ByTheRest()
    {
        TensorBlockLayout layout = TensorBlockLayout.PerTensor([[96, 80], [80], [], [8, 3, 5, 5], [0, 4]], 64);

        Assert.Equal(
            [
                new TensorRegion(0, 96, 80, 48, 40, 96, 80, 0),
                new TensorRegion(7680, 1, 80, 1, 40, 1, 80, 7680),
                new TensorRegion(7760, 1, 1, 1, 1, 1, 1, 7760),
                new TensorRegion(7761, 8, 75, 8, 38, 8, 76, 7761),
            ],
            layout.Regions);
        Assert.Equal(7761 + 600, layout.ParameterCount);
        Assert.Equal(7761 + 608, layout.Length);
        Assert.Equal(4 + 2 + 1 + 2, layout.BlockCount);
    }

    [Fact]
    public void Flat_IsOneRowOfChunks_PaddedToWholeChunks()
    {
        TensorBlockLayout layout = TensorBlockLayout.Flat(1000, 64);

        Assert.Equal([new TensorRegion(0, 1, 1000, 1, 64, 1, 1024, 0)], layout.Regions);
        Assert.Equal(16, layout.BlockCount);
    }

    [Fact]
    public void ScatterThenGather_RoundTrips_AndThePaddingIsZero()
    {
        TensorBlockLayout layout = TensorBlockLayout.PerTensor([[67, 3], [5]], 64);
        float[] parameters = [.. Enumerable.Range(1, layout.ParameterCount).Select(i => (float)i)];
        float[] padded = Enumerable.Repeat(float.NaN, layout.Length).ToArray();
        float[] back = new float[layout.ParameterCount];

        layout.Scatter(parameters, padded);
        layout.Gather(padded, back);

        Assert.Equal(parameters, back);
        Assert.Equal(68 * 3 + 5, padded.Length);
        Assert.Equal([0f, 0f, 0f], padded[(67 * 3)..(68 * 3)]);   // the padding row of the 67 x 3 tensor
        Assert.Equal(parameters.Sum(), padded.Sum());
    }
}
