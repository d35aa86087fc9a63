using DesLoc.Sync.Math;

namespace DesLoc.Sync.Tests.Math;

public sealed class TensorBlockDctTests
{
    /// <summary>1-D, 2-D with divisors, prime and awkward dimensions (padded), more than 2-D, a scalar, and a mix.</summary>
    public static TheoryData<string, long[][]> Shapes => new()
    {
        { "64x64", [[64, 64]] },
        { "96x80", [[96, 80]] },
        { "1-D 1000", [[1000]] },
        { "prime 67x71", [[67, 71]] },
        { "130x75", [[130, 75]] },
        { "4-D 8x3x5x5", [[8, 3, 5, 5]] },
        { "mixed", [[32, 96], [96], [], [7, 5], [3, 2, 131]] },
    };

    private static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1))];
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardThenInverse_RoundTripsWithin1e5_AndPreservesEnergy(string name, long[][] shapes)
    {
        var dct = new TensorBlockDct(TensorBlockLayout.PerTensor(shapes, 64));
        float[] signal = new float[dct.Layout.Length];
        dct.Layout.Scatter(Random(dct.Layout.ParameterCount, 5), signal);
        float[] coefficients = new float[signal.Length];
        float[] restored = new float[signal.Length];

        dct.Forward(signal, coefficients);
        dct.Inverse(coefficients, restored);

        double energy = signal.Sum(v => (double)v * v);
        Assert.Equal(energy, coefficients.Sum(c => (double)c * c), energy * 1e-5);
        for (int i = 0; i < signal.Length; i++)
        {
            Assert.True(MathF.Abs(signal[i] - restored[i]) < 1e-5f, $"{name}: value {i} is {restored[i]}, was {signal[i]}");
        }
    }

    /// <summary>The transform of one 6 x 10 block as a 60 x 60 matrix (its columns are the images of unit vectors): M·Mᵀ = I.</summary>
    [Fact]
    public void Forward_OfOneBlock_IsAnOrthonormalMatrix()
    {
        var dct = new TensorBlockDct(TensorBlockLayout.PerTensor([[6, 10]], 64));
        const int N = 60;
        double[,] matrix = new double[N, N];
        float[] unit = new float[N];
        float[] image = new float[N];
        for (int j = 0; j < N; j++)
        {
            Array.Clear(unit);
            unit[j] = 1f;
            dct.Forward(unit, image);
            for (int i = 0; i < N; i++)
            {
                matrix[i, j] = image[i];
            }
        }

        for (int a = 0; a < N; a++)
        {
            for (int b = 0; b < N; b++)
            {
                double dot = Enumerable.Range(0, N).Sum(n => matrix[a, n] * matrix[b, n]);
                Assert.Equal(a == b ? 1.0 : 0.0, dot, 1e-6);
            }
        }
    }

    /// <summary>Coefficient (k, l) of a block is D_h[k]·block·D_w[l]ᵀ: checked against the 1-D bases directly.</summary>
    [Fact]
    public void Forward_IsRowBasisTimesBlockTimesColumnBasisTransposed()
    {
        const int H = 4;
        const int Wd = 8;
        var dct = new TensorBlockDct(TensorBlockLayout.PerTensor([[H, Wd]], 64));
        float[] block = Random(H * Wd, 9);
        float[] coefficients = new float[H * Wd];
        dct.Forward(block, coefficients);
        ReadOnlySpan<float> dh = new ChunkedDct(H).Basis;
        ReadOnlySpan<float> dw = new ChunkedDct(Wd).Basis;

        for (int k = 0; k < H; k++)
        {
            for (int l = 0; l < Wd; l++)
            {
                double expected = 0;
                for (int r = 0; r < H; r++)
                {
                    for (int c = 0; c < Wd; c++)
                    {
                        expected += (double)dh[(k * H) + r] * block[(r * Wd) + c] * dw[(l * Wd) + c];
                    }
                }

                Assert.Equal(expected, coefficients[(k * Wd) + l], 1e-5);
            }
        }
    }

    [Fact]
    public void Forward_ConstantTensor_PutsEachBlocksEnergyInItsFirstCoefficient()
    {
        var dct = new TensorBlockDct(TensorBlockLayout.PerTensor([[96, 80]], 64));   // four 48 x 40 blocks
        float[] signal = Enumerable.Repeat(2f, 96 * 80).ToArray();
        float[] coefficients = new float[signal.Length];

        dct.Forward(signal, coefficients);

        for (int b = 0; b < 4; b++)
        {
            Assert.Equal(2f * MathF.Sqrt(48 * 40), coefficients[b * 1920], 1e-3f);
            Assert.All(coefficients[((b * 1920) + 1)..((b + 1) * 1920)], c => Assert.Equal(0f, c, 1e-4f));
        }
    }
}
