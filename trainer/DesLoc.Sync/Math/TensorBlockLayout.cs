namespace DesLoc.Sync.Math;

/// <summary>
/// Where DCT momentum's blocks lie, computed from the parameter shapes alone so every replica derives the same one.
/// <para>
/// <see cref="PerTensor"/> is the paper's cut (DeMo's <c>TransformDCT</c>, used by exalsius/diloco-training): each tensor
/// on its own, a 2-D weight R x C in blocks of h x w where h is the largest divisor of R that is at most the chunk
/// (R itself when R is below it) and w likewise for C; a 1-D tensor as one row (chunks of w); a tensor of more
/// dimensions as (dim 0, the rest). One departure: a dimension longer than the chunk whose largest such divisor is under
/// half the chunk (a prime like 67 gives 1, GPT-2's vocabulary 50257 gives 29) would cut the tensor into slivers that
/// top-k sends nearly whole, or into blocks far smaller than the paper's; it is cut instead into the fewest blocks of
/// at most the chunk, of equal length, and zero-padded to them (67 into 2 x 34, padded by one).
/// </para>
/// <para><see cref="Flat"/> is the concatenation of all parameters in 1-D chunks (crossing tensor boundaries), the last
/// one zero-padded.</para>
/// Padding lives only in the layout's vectors (momentum, coefficients); it never reaches the parameters.
/// </summary>
public sealed class TensorBlockLayout
{
    private TensorBlockLayout(IReadOnlyList<TensorRegion> regions, long parameterCount)
    {
        Regions = regions;
        ParameterCount = checked((int)parameterCount);
        Length = checked((int)regions.Sum(r => r.Length));
    }

    public IReadOnlyList<TensorRegion> Regions { get; }

    /// <summary>Values in the flat parameter vector.</summary>
    public int ParameterCount { get; }

    /// <summary>Values in the layout's vectors: the parameters plus padding.</summary>
    public int Length { get; }

    public long BlockCount => Regions.Sum(r => (long)r.BlockCount);

    /// <summary>Values in the flat vector of tensors of these shapes (a scalar's empty shape holds one).</summary>
    public static long ElementCount(IReadOnlyList<long[]> shapes) => shapes.Sum(s => s.Aggregate(1L, (a, b) => checked(a * b)));

    public static TensorBlockLayout PerTensor(IReadOnlyList<long[]> shapes, int chunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        var regions = new List<TensorRegion>(shapes.Count);
        long source = 0;
        long layout = 0;
        foreach (long[] shape in shapes)
        {
            long count = shape.Aggregate(1L, (a, b) => checked(a * b));
            if (count == 0)
            {
                continue;
            }

            int rows = checked((int)(shape.Length >= 2 ? shape[0] : 1));
            int columns = checked((int)(count / rows));
            (int blockRows, int paddedRows) = Cut(rows, chunk);
            (int blockColumns, int paddedColumns) = Cut(columns, chunk);
            var region = new TensorRegion(source, rows, columns, blockRows, blockColumns, paddedRows, paddedColumns, layout);
            regions.Add(region);
            source += count;
            layout += region.Length;
        }

        return new TensorBlockLayout(regions, source);
    }

    public static TensorBlockLayout Flat(long parameterCount, int chunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        int count = checked((int)parameterCount);
        int padded = checked((count + chunk - 1) / chunk * chunk);
        return new TensorBlockLayout(count == 0 ? [] : [new TensorRegion(0, 1, count, 1, chunk, 1, padded, 0)], count);
    }

    /// <summary>
    /// Block length and padded length of one dimension: the dimension itself up to the chunk; else its largest divisor
    /// at most the chunk when that is at least half the chunk (no padding); else the fewest equal blocks of at most the chunk.
    /// </summary>
    public static (int Block, int Padded) Cut(int length, int chunk)
    {
        if (length <= chunk)
        {
            return (length, length);
        }

        int divisor = chunk;
        while (length % divisor != 0)
        {
            divisor--;
        }

        if (2 * divisor >= chunk)
        {
            return (divisor, length);
        }

        int blocks = (length + chunk - 1) / chunk;
        int block = (length + blocks - 1) / blocks;
        return (block, checked(block * blocks));
    }

    /// <summary>Copies the flat parameter-order vector into the layout's padded matrices, zeroing the padding.</summary>
    public void Scatter(ReadOnlySpan<float> parameters, Span<float> layout)
    {
        Require(parameters.Length, layout.Length);
        foreach (TensorRegion r in Regions)
        {
            Span<float> matrix = layout.Slice((int)r.LayoutOffset, (int)r.Length);
            matrix.Clear();
            for (int row = 0; row < r.Rows; row++)
            {
                parameters.Slice((int)r.SourceOffset + (row * r.Columns), r.Columns).CopyTo(matrix.Slice(row * r.PaddedColumns, r.Columns));
            }
        }
    }

    /// <summary>Copies the layout's values back into parameter order, dropping the padding.</summary>
    public void Gather(ReadOnlySpan<float> layout, Span<float> parameters)
    {
        Require(parameters.Length, layout.Length);
        foreach (TensorRegion r in Regions)
        {
            ReadOnlySpan<float> matrix = layout.Slice((int)r.LayoutOffset, (int)r.Length);
            for (int row = 0; row < r.Rows; row++)
            {
                matrix.Slice(row * r.PaddedColumns, r.Columns).CopyTo(parameters.Slice((int)r.SourceOffset + (row * r.Columns), r.Columns));
            }
        }
    }

    private void Require(int parameters, int layout)
    {
        if (parameters != ParameterCount || layout != Length)
        {
            throw new ArgumentException($"Expected {ParameterCount} parameters and {Length} layout values (got {parameters} and {layout}).");
        }
    }
}

/// <summary>
/// One tensor (or the whole flat vector) as a padded matrix of <see cref="PaddedRows"/> x <see cref="PaddedColumns"/>
/// cut into blocks of <see cref="BlockRows"/> x <see cref="BlockColumns"/>. Its <see cref="Rows"/> x <see cref="Columns"/>
/// values start at <see cref="SourceOffset"/> of the flat parameter vector; the padded matrix starts at
/// <see cref="LayoutOffset"/> of the layout's vectors (row-major in signal space, block after block in coefficient space).
/// </summary>
public sealed record TensorRegion(long SourceOffset, int Rows, int Columns, int BlockRows, int BlockColumns, int PaddedRows, int PaddedColumns, long LayoutOffset)
{
    public int BlockSize => BlockRows * BlockColumns;

    public int BlockCount => PaddedRows / BlockRows * (PaddedColumns / BlockColumns);

    public long Length => (long)PaddedRows * PaddedColumns;
}
