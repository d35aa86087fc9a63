using System.Buffers.Binary;

namespace DesLoc.Sync.Math;

/// <summary>
/// The top-k coefficients of every chunk by magnitude, and their wire form: all indices (one byte each when
/// the chunk has at most 256 entries, else two), then all float32 values, little-endian. Every replica uses
/// the same chunk count and k, so the payload needs no header and its size is known in advance.
/// </summary>
public sealed class SparseChunkCoefficients
{
    public SparseChunkCoefficients(int chunk, int topK, int chunkCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(topK, chunk);
        Chunk = chunk;
        TopK = topK;
        ChunkCount = chunkCount;
        IndexBytes = chunk <= 256 ? 1 : 2;
    }

    public int Chunk { get; }

    public int TopK { get; }

    public int ChunkCount { get; }

    public int IndexBytes { get; }

    /// <summary>Bytes of one replica's payload: k (index + value) per chunk.</summary>
    public long PayloadBytes => (long)ChunkCount * TopK * (IndexBytes + sizeof(float));

    /// <summary>
    /// Moves each chunk's k largest-magnitude coefficients into <paramref name="payload"/> and zeroes them in
    /// <paramref name="coefficients"/>, which keeps the residual. Ties go to the lower index, so selection is deterministic.
    /// </summary>
    public void Extract(Span<float> coefficients, Span<byte> payload)
    {
        if (payload.Length != PayloadBytes || coefficients.Length != (long)ChunkCount * Chunk)
        {
            throw new ArgumentException("Payload or coefficient buffer has the wrong size for this layout.");
        }

        Span<int> picked = stackalloc int[TopK];
        Span<byte> indices = payload[..(ChunkCount * TopK * IndexBytes)];
        Span<byte> values = payload[(ChunkCount * TopK * IndexBytes)..];
        for (int c = 0; c < ChunkCount; c++)
        {
            Span<float> block = coefficients.Slice(c * Chunk, Chunk);
            SelectTopK(block, picked);
            for (int j = 0; j < TopK; j++)
            {
                int entry = c * TopK + j;
                WriteIndex(indices, entry, picked[j]);
                BinaryPrimitives.WriteSingleLittleEndian(values.Slice(entry * sizeof(float)), block[picked[j]]);
                block[picked[j]] = 0f;
            }
        }
    }

    /// <summary>Adds <paramref name="scale"/> times a payload's coefficients into the dense <paramref name="coefficients"/>.</summary>
    public void AddScaled(ReadOnlySpan<byte> payload, float scale, Span<float> coefficients)
    {
        if (payload.Length != PayloadBytes)
        {
            throw new ArgumentException($"A DCT payload must be {PayloadBytes} bytes (got {payload.Length}).");
        }

        ReadOnlySpan<byte> indices = payload[..(ChunkCount * TopK * IndexBytes)];
        ReadOnlySpan<byte> values = payload[(ChunkCount * TopK * IndexBytes)..];
        for (int c = 0; c < ChunkCount; c++)
        {
            for (int j = 0; j < TopK; j++)
            {
                int entry = c * TopK + j;
                int index = ReadIndex(indices, entry);
                if (index >= Chunk)
                {
                    throw new InvalidDataException($"DCT payload index {index} is outside a chunk of {Chunk}.");
                }

                coefficients[c * Chunk + index] += scale * BinaryPrimitives.ReadSingleLittleEndian(values.Slice(entry * sizeof(float)));
            }
        }
    }

    private static void SelectTopK(ReadOnlySpan<float> block, Span<int> picked)
    {
        // Insertion into a short sorted list: O(chunk * k), cheap for chunk 64 and allocation-free.
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

    private void WriteIndex(Span<byte> indices, int entry, int index)
    {
        if (IndexBytes == 1)
        {
            indices[entry] = (byte)index;
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(indices.Slice(entry * 2), (ushort)index);
        }
    }

    private int ReadIndex(ReadOnlySpan<byte> indices, int entry) =>
        IndexBytes == 1 ? indices[entry] : BinaryPrimitives.ReadUInt16LittleEndian(indices.Slice(entry * 2));
}
