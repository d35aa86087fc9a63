using DesLoc.Sync.Math;

namespace DesLoc.Sync.Tests.Math;

public sealed class SparseChunkCoefficientsTests
{
    [Fact]
    public void Extract_KeepsTheLargestMagnitudesAndLeavesTheResidual()
    {
        var codec = new SparseChunkCoefficients(chunk: 4, topK: 2, chunkCount: 2);
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
    [InlineData(64, 4, 16, 16 * 4 * 5)]
    [InlineData(256, 1, 3, 3 * 1 * 5)]
    [InlineData(512, 8, 2, 2 * 8 * 6)]
    public void PayloadBytes_IsKIndexAndValuePairsPerChunk(int chunk, int topK, int chunks, long expected) =>
        Assert.Equal(expected, new SparseChunkCoefficients(chunk, topK, chunks).PayloadBytes);

    [Fact]
    public void AddScaled_WrongPayloadSize_Throws()
    {
        var codec = new SparseChunkCoefficients(4, 2, 1);

        Assert.Throws<ArgumentException>(() => codec.AddScaled(new byte[3], 1f, new float[4]));
    }

    [Fact]
    public void AddScaled_IndexOutsideChunk_IsRefused()
    {
        var codec = new SparseChunkCoefficients(4, 1, 1);
        byte[] payload = [9, 0, 0, 128, 63];

        Assert.Throws<InvalidDataException>(() => codec.AddScaled(payload, 1f, new float[4]));
    }

    [Fact]
    public void Constructor_TopKLargerThanChunk_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SparseChunkCoefficients(4, 5, 1));
}
