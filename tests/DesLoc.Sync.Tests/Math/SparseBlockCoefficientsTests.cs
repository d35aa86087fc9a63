using DesLoc.Sync.Math;

namespace DesLoc.Sync.Tests.Math;

public sealed class SparseBlockCoefficientsTests
{
    [Fact]
    public void Extract_KeepsTheLargestMagnitudesAndLeavesTheResidual()
    {
        var codec = new SparseBlockCoefficients(TensorBlockLayout.Flat(8, 4), topK: 2);
        float[] coefficients = [0.1f, -5f, 3f, 0.2f, 1f, 1f, -1f, 0.5f];
        byte[] payload = new byte[codec.PayloadBytes];

        codec.Extract(coefficients, payload);

        // Ties (|1| three times) go to the lower indices.
        Assert.Equal([0.1f, 0f, 0f, 0.2f, 0f, 0f, -1f, 0.5f], coefficients);
        float[] sent = new float[8];
        codec.AddScaled(payload, 1f, sent);
        Assert.Equal([0f, -5f, 3f, 0f, 1f, 1f, 0f, 0f], sent);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(256, 1)]
    [InlineData(257, 2)]
    [InlineData(4096, 2)]
    [InlineData(65536, 2)]
    [InlineData(65537, 3)]
    public void IndexBytes_AreAsFewAsTheBlockNeeds(int blockSize, int bytes) => Assert.Equal(bytes, SparseBlockCoefficients.IndexBytes(blockSize));

    /// <summary>Per block min(k, block) times (index bytes + 4): 64 x 64 blocks take 2-byte indices, 16 x 16 and 1-D ones 1 byte.</summary>
    [Theory]
    [InlineData(32, 4 * 32 * 6)]
    [InlineData(4, 4 * 4 * 6)]
    public void PayloadBytes_IsTheFormulaOfLayoutAndTopK(int topK, long twoD)
    {
        TensorBlockLayout layout = TensorBlockLayout.PerTensor([[128, 128], [16, 16], [100], [3]], 64);
        long expected = twoD + (1 * topK * 5) + (2 * topK * 5) + (1 * System.Math.Min(topK, 3) * 5);   // 16x16, 2 chunks of 50, 3 values

        Assert.Equal(expected, SparseBlockCoefficients.PayloadBytesOf(layout, topK));
        Assert.Equal(expected, new SparseBlockCoefficients(layout, topK).PayloadBytes);
        var codec = new SparseBlockCoefficients(layout, topK);
        byte[] payload = new byte[codec.PayloadBytes];
        codec.Extract(new float[layout.Length], payload);   // fills exactly the payload, or throws
    }

    [Fact]
    public void ExtractThenAddScaled_WithTwoByteIndices_RestoresEveryBlock()
    {
        TensorBlockLayout layout = TensorBlockLayout.PerTensor([[128, 64], [7]], 64);   // 2 blocks of 4096, one of 7
        var codec = new SparseBlockCoefficients(layout, topK: 4096);
        var random = new Random(2);
        float[] coefficients = [.. Enumerable.Range(0, layout.Length).Select(_ => (float)random.NextDouble())];
        float[] original = [.. coefficients];
        byte[] payload = new byte[codec.PayloadBytes];

        codec.Extract(coefficients, payload);
        codec.AddScaled(payload, 1f, coefficients);

        Assert.Equal(original, coefficients);
        Assert.Equal((2 * 4096 * 6) + (7 * 5), payload.Length);
    }

    [Fact]
    public void AddScaled_WrongPayloadSize_Throws()
    {
        var codec = new SparseBlockCoefficients(TensorBlockLayout.Flat(4, 4), 2);

        Assert.Throws<ArgumentException>(() => codec.AddScaled(new byte[3], 1f, new float[4]));
    }

    [Fact]
    public void AddScaled_IndexOutsideTheBlock_IsRefused()
    {
        var codec = new SparseBlockCoefficients(TensorBlockLayout.Flat(4, 4), 1);
        byte[] payload = [9, 0, 0, 128, 63];

        Assert.Throws<InvalidDataException>(() => codec.AddScaled(payload, 1f, new float[4]));
    }
}
