namespace DesLoc.Sync.Math;

/// <summary>
/// The orthonormal 2-D DCT-II of every block of a <see cref="TensorBlockLayout"/>: <c>D_h · block · D_wᵀ</c>, as the paper's
/// code does it (separable: rows with the w-point transform, then columns with the h-point one). Signals are the layout's
/// row-major padded matrices; coefficients are stored block after block, each block's h·w row-major, so top-k can take a
/// block as one span. The inverse, <c>D_hᵀ · coefficients · D_w</c>, is exact up to float rounding.
/// </summary>
public sealed class TensorBlockDct
{
    private readonly Dictionary<int, ChunkedDct> _transforms = [];
    private readonly float[] _block;
    private readonly float[] _work;

    public TensorBlockDct(TensorBlockLayout layout)
    {
        Layout = layout;
        int largest = 0;
        foreach (TensorRegion r in layout.Regions)
        {
            _transforms.TryAdd(r.BlockRows, new ChunkedDct(r.BlockRows));
            _transforms.TryAdd(r.BlockColumns, new ChunkedDct(r.BlockColumns));
            largest = System.Math.Max(largest, r.BlockSize);
        }

        _block = new float[largest];
        _work = new float[largest];
    }

    public TensorBlockLayout Layout { get; }

    public void Forward(ReadOnlySpan<float> signal, Span<float> coefficients) => Apply(signal, coefficients, inverse: false);

    public void Inverse(ReadOnlySpan<float> coefficients, Span<float> signal) => Apply(coefficients, signal, inverse: true);

    private void Apply(ReadOnlySpan<float> input, Span<float> output, bool inverse)
    {
        if (input.Length != Layout.Length || output.Length != Layout.Length)
        {
            throw new ArgumentException($"Input and output must hold the layout's {Layout.Length} values (got {input.Length} and {output.Length}).");
        }

        foreach (TensorRegion r in Layout.Regions)
        {
            ChunkedDct rows = _transforms[r.BlockColumns];
            ChunkedDct columns = _transforms[r.BlockRows];
            int size = r.BlockSize;
            Span<float> block = _block.AsSpan(0, size);
            Span<float> work = _work.AsSpan(0, size);
            int blocksPerRow = r.PaddedColumns / r.BlockColumns;
            for (int b = 0; b < r.BlockCount; b++)
            {
                int firstRow = b / blocksPerRow * r.BlockRows;
                int firstColumn = b % blocksPerRow * r.BlockColumns;
                int coefficientOffset = (int)r.LayoutOffset + (b * size);
                if (!inverse)
                {
                    CopyBlock(input, r, firstRow, firstColumn, block, toMatrix: false);
                    rows.Forward(block, work);
                    TransformColumns(columns, work, block, r.BlockRows, r.BlockColumns, inverse: false);
                    block.CopyTo(output.Slice(coefficientOffset, size));
                }
                else
                {
                    rows.Inverse(input.Slice(coefficientOffset, size), work);
                    TransformColumns(columns, work, block, r.BlockRows, r.BlockColumns, inverse: true);
                    CopyBlock(block, r, firstRow, firstColumn, output, toMatrix: true);
                }
            }
        }
    }

    /// <summary>Moves one h x w block between its place in a region's padded matrix and a contiguous row-major span.</summary>
    private static void CopyBlock(ReadOnlySpan<float> from, TensorRegion r, int firstRow, int firstColumn, Span<float> to, bool toMatrix)
    {
        for (int row = 0; row < r.BlockRows; row++)
        {
            int matrix = (int)r.LayoutOffset + ((firstRow + row) * r.PaddedColumns) + firstColumn;
            int local = row * r.BlockColumns;
            if (toMatrix)
            {
                from.Slice(local, r.BlockColumns).CopyTo(to.Slice(matrix, r.BlockColumns));
            }
            else
            {
                from.Slice(matrix, r.BlockColumns).CopyTo(to.Slice(local, r.BlockColumns));
            }
        }
    }

    /// <summary>The h-point transform of every column of the h x w <paramref name="source"/>, into <paramref name="target"/> (both row-major).</summary>
    private static void TransformColumns(ChunkedDct columns, Span<float> source, Span<float> target, int height, int width, bool inverse)
    {
        if (height == 1)
        {
            source.CopyTo(target);   // the 1-point DCT is the identity
            return;
        }

        // Transpose so each column is contiguous, transform, transpose back; source serves as scratch in between.
        Transpose(source, target, height, width);
        if (inverse)
        {
            columns.Inverse(target, source);
        }
        else
        {
            columns.Forward(target, source);
        }

        Transpose(source, target, width, height);
    }

    private static void Transpose(ReadOnlySpan<float> source, Span<float> target, int height, int width)
    {
        for (int row = 0; row < height; row++)
        {
            for (int column = 0; column < width; column++)
            {
                target[(column * height) + row] = source[(row * width) + column];
            }
        }
    }
}
