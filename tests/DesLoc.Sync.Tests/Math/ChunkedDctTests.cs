using DesLoc.Sync.Math;

namespace DesLoc.Sync.Tests.Math;

public sealed class ChunkedDctTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(8)]
    [InlineData(1)]
    public void Basis_IsOrthonormal(int chunk)
    {
        var dct = new ChunkedDct(chunk);
        ReadOnlySpan<float> basis = dct.Basis;

        for (int a = 0; a < chunk; a++)
        {
            for (int b = 0; b < chunk; b++)
            {
                double dot = 0;
                for (int n = 0; n < chunk; n++)
                {
                    dot += (double)basis[a * chunk + n] * basis[b * chunk + n];
                }

                Assert.Equal(a == b ? 1.0 : 0.0, dot, 1e-6);
            }
        }
    }

    [Fact]
    public void ForwardThenInverse_RandomSignal_RoundTripsWithin1e5()
    {
        var dct = new ChunkedDct(64);
        var random = new Random(3);
        float[] signal = Enumerable.Range(0, 64 * 20).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] coefficients = new float[signal.Length];
        float[] restored = new float[signal.Length];

        dct.Forward(signal, coefficients);
        dct.Inverse(coefficients, restored);

        for (int i = 0; i < signal.Length; i++)
        {
            Assert.Equal(signal[i], restored[i], 1e-5f);
        }
    }

    [Fact]
    public void Forward_ConstantChunk_PutsAllEnergyInTheFirstCoefficient()
    {
        var dct = new ChunkedDct(16);
        float[] signal = Enumerable.Repeat(2f, 16).ToArray();
        float[] coefficients = new float[16];

        dct.Forward(signal, coefficients);

        Assert.Equal(2f * MathF.Sqrt(16), coefficients[0], 1e-5f);
        Assert.All(coefficients[1..], c => Assert.Equal(0f, c, 1e-5f));
    }

    [Fact]
    public void Forward_LengthNotAMultipleOfChunk_Throws() =>
        Assert.Throws<ArgumentException>(() => new ChunkedDct(8).Forward(new float[10], new float[10]));
}
