using System.Buffers.Binary;

namespace DesLoc.Sync.Math;

/// <summary>
/// The top-k coefficients of every block of a <see cref="TensorBlockLayout"/> by magnitude (k clamped to the block's size),
/// and their wire form: block after block, its k indices in as few bytes as the block's size needs (<see cref="IndexBytes"/>),
/// then its k float32 values, little-endian. Every replica derives the same layout and k, so the payload needs no
/// header and its size is known in advance (<see cref="PayloadBytesOf"/>).
/// </summary>
public sealed class SparseBlockCoefficients
{
    private readonly int[] _picked;

    public SparseBlockCoefficients(TensorBlockLayout layout, int topK)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        Layout = layout;
        TopK = topK;
        PayloadBytes = PayloadBytesOf(layout, topK);
        _picked = new int[layout.Regions.Count == 0 ? 0 : layout.Regions.Max(r => KeptOf(r, topK))];
    }

    public TensorBlockLayout Layout { get; }

    public int TopK { get; }

    /// <summary>Bytes of one replica's payload.</summary>
    public long PayloadBytes { get; }

    /// <summary>Bytes of an index into a block of <paramref name="blockSize"/> coefficients: 1 up to 256, 2 up to 65536, ...</summary>
    public static int IndexBytes(int blockSize)
    {
        int bytes = 1;
        while (bytes < 4 && blockSize > 1L << (8 * bytes))
        {
            bytes++;
        }

        return bytes;
    }

    /// <summary>Coefficients a block of this region sends: k, or the whole block when it is smaller.</summary>
    public static int KeptOf(TensorRegion region, int topK) => System.Math.Min(topK, region.BlockSize);

    /// <summary>One replica's payload: per block, k indices of <see cref="IndexBytes"/> and k float32 values.</summary>
    public static long PayloadBytesOf(TensorBlockLayout layout, int topK) =>
        layout.Regions.Sum(r => (long)r.BlockCount * KeptOf(r, topK) * (IndexBytes(r.BlockSize) + sizeof(float)));

    /// <summary>
    /// Moves each block's k largest-magnitude coefficients into <paramref name="payload"/> and zeroes them in
    /// <paramref name="coefficients"/>, which keeps the residual. Ties go to the lower index, so selection is deterministic.
    /// </summary>
    public void Extract(Span<float> coefficients, Span<byte> payload)
    {
        Require(coefficients.Length, payload.Length);
        int at = 0;
        foreach (TensorRegion r in Layout.Regions)
        {
            int k = KeptOf(r, TopK);
            int indexBytes = IndexBytes(r.BlockSize);
            Span<int> picked = _picked.AsSpan(0, k);
            for (int b = 0; b < r.BlockCount; b++)
            {
                Span<float> block = coefficients.Slice((int)r.LayoutOffset + (b * r.BlockSize), r.BlockSize);
                SelectTopK(block, picked);
                Span<byte> indices = payload.Slice(at, k * indexBytes);
                Span<byte> values = payload.Slice(at + (k * indexBytes), k * sizeof(float));
                for (int j = 0; j < k; j++)
                {
                    WriteIndex(indices.Slice(j * indexBytes, indexBytes), picked[j]);
                    BinaryPrimitives.WriteSingleLittleEndian(values.Slice(j * sizeof(float)), block[picked[j]]);
                    block[picked[j]] = 0f;
                }

                at += k * (indexBytes + sizeof(float));
            }
        }
    }

    /// <summary>Adds <paramref name="scale"/> times a payload's coefficients into the dense <paramref name="coefficients"/>.</summary>
    public void AddScaled(ReadOnlySpan<byte> payload, float scale, Span<float> coefficients)
    {
        Require(coefficients.Length, payload.Length);
        int at = 0;
        foreach (TensorRegion r in Layout.Regions)
        {
            int k = KeptOf(r, TopK);
            int indexBytes = IndexBytes(r.BlockSize);
            for (int b = 0; b < r.BlockCount; b++)
            {
                Span<float> block = coefficients.Slice((int)r.LayoutOffset + (b * r.BlockSize), r.BlockSize);
                ReadOnlySpan<byte> indices = payload.Slice(at, k * indexBytes);
                ReadOnlySpan<byte> values = payload.Slice(at + (k * indexBytes), k * sizeof(float));
                for (int j = 0; j < k; j++)
                {
                    int index = ReadIndex(indices.Slice(j * indexBytes, indexBytes));
                    if (index >= r.BlockSize)
                    {
                        throw new InvalidDataException($"DCT payload index {index} is outside a block of {r.BlockSize}.");
                    }

                    block[index] += scale * BinaryPrimitives.ReadSingleLittleEndian(values.Slice(j * sizeof(float)));
                }

                at += k * (indexBytes + sizeof(float));
            }
        }
    }

    private void Require(int coefficients, int payload)
    {
        if (coefficients != Layout.Length || payload != PayloadBytes)
        {
            throw new ArgumentException($"A DCT payload must be {PayloadBytes} bytes over {Layout.Length} coefficients (got {payload} and {coefficients}).");
        }
    }

    private static void SelectTopK(ReadOnlySpan<float> block, Span<int> picked)
    {
        if (picked.Length == block.Length)
        {
            // The whole block goes: no selection, and no O(n·k) insertion for a 64 x 64 block sent whole.
            for (int i = 0; i < picked.Length; i++)
            {
                picked[i] = i;
            }

            return;
        }

        // Insertion into a short sorted list: O(block · k) at worst, near O(block) for small k, and allocation-free.
        int count = 0;
        for (int i = 0; i < block.Length; i++)
        {
            float magnitude = MathF.Abs(block[i]);
            int position = count;
            while (position > 0 && MathF.Abs(block[picked[position - 1]]) < magnitude)
            {
                position--;
            }

            if (position >= picked.Length)
            {
                continue;
            }

            int last = System.Math.Min(count, picked.Length - 1);
            for (int j = last; j > position; j--)
            {
                picked[j] = picked[j - 1];
            }

            picked[position] = i;
            count = System.Math.Min(count + 1, picked.Length);
        }
    }

    private static void WriteIndex(Span<byte> target, int index)
    {
        for (int i = 0; i < target.Length; i++)
        {
            target[i] = (byte)(index >> (8 * i));
        }
    }

    private static int ReadIndex(ReadOnlySpan<byte> source)
    {
        int index = 0;
        for (int i = 0; i < source.Length; i++)
        {
            index |= source[i] << (8 * i);
        }

        return index;
    }
}
