using System.Buffers;
using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// How a collective puts float values on the wire: the encoding of one message, its size, and the rounding a sender
/// applies to its own copy so that it holds what its receivers decode. Sums stay float32 whatever the format. A
/// message is a run of blocks of <see cref="BlockValues"/> values (the last one may be shorter) that decode on their
/// own; <see cref="WireCompression"/> says which format each kind of buffer travels in.
/// </summary>
public abstract class WireFormat
{
    /// <summary>float32 as it is in memory, sent without a copy.</summary>
    public static WireFormat Uncompressed { get; } = new Float32Format();

    /// <summary>bfloat16, rounded to nearest even: half the bytes.</summary>
    public static WireFormat Bf16 { get; } = new BFloat16Format();

    /// <summary>int8 with a float32 scale per block of <see cref="Int8BlockFormat.BlockSize"/> values: 1 + 4/256 bytes a value.</summary>
    public static WireFormat BlockInt8 { get; } = new Int8BlockFormat();

    /// <summary>Values encoded together: a message's bytes decode block by block.</summary>
    public virtual int BlockValues => 1;

    /// <summary>Bytes one message of <paramref name="values"/> values takes on the wire.</summary>
    public abstract long EncodedBytes(long values);

    /// <summary>The wire bytes of <paramref name="values"/>; dispose the owner once they are sent.</summary>
    public abstract IMemoryOwner<byte> Encode(Memory<float> values);

    /// <summary>Decodes <paramref name="encoded"/> (whole blocks) into <paramref name="target"/>, adding to it or replacing it.</summary>
    public abstract void Decode(ReadOnlySpan<byte> encoded, Span<float> target, bool accumulate);

    /// <summary>
    /// Replaces <paramref name="values"/> (one message) with what a receiver of them decodes. Idempotent, and encoding
    /// rounded values decodes to them exactly, so a forwarded or re-sent message never changes.
    /// </summary>
    public abstract void RoundInPlace(Span<float> values);

    /// <summary>
    /// <see cref="RoundInPlace(Span{float})"/>, adding <paramref name="weight"/> × what the rounding lost to
    /// <paramref name="residual"/>: error feedback for a sender that keeps a residual.
    /// </summary>
    public void RoundInPlace(Span<float> values, Span<float> residual, float weight)
    {
        float[] exact = ArrayPool<float>.Shared.Rent(values.Length);
        try
        {
            Span<float> lost = exact.AsSpan(0, values.Length);
            values.CopyTo(lost);
            RoundInPlace(values);
            TensorPrimitives.Subtract(lost, values, lost);
            TensorPrimitives.MultiplyAdd(lost, weight, residual, residual);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(exact);
        }
    }

    private sealed class Float32Format : WireFormat
    {
        public override long EncodedBytes(long values) => values * sizeof(float);

        public override IMemoryOwner<byte> Encode(Memory<float> values) => new FloatBytes(values);

        public override void Decode(ReadOnlySpan<byte> encoded, Span<float> target, bool accumulate)
        {
            ReadOnlySpan<float> values = MemoryMarshal.Cast<byte, float>(encoded);
            if (accumulate)
            {
                TensorPrimitives.Add(target, values, target);
            }
            else
            {
                values.CopyTo(target);
            }
        }

        public override void RoundInPlace(Span<float> values)
        {
        }
    }

    private sealed class BFloat16Format : WireFormat
    {
        public override long EncodedBytes(long values) => values * sizeof(ushort);

        public override IMemoryOwner<byte> Encode(Memory<float> values)
        {
            var owner = new PooledBytes(values.Length * sizeof(ushort));
            BFloat16Bits.FromFloats(values.Span, MemoryMarshal.Cast<byte, ushort>(owner.Memory.Span));
            return owner;
        }

        public override void Decode(ReadOnlySpan<byte> encoded, Span<float> target, bool accumulate)
        {
            ReadOnlySpan<ushort> bits = MemoryMarshal.Cast<byte, ushort>(encoded);
            if (!accumulate)
            {
                BFloat16Bits.ToFloats(bits, target);
                return;
            }

            Span<float> decoded = stackalloc float[256];
            for (int start = 0; start < bits.Length; start += decoded.Length)
            {
                int count = Math.Min(decoded.Length, bits.Length - start);
                BFloat16Bits.ToFloats(bits.Slice(start, count), decoded[..count]);
                TensorPrimitives.Add(target.Slice(start, count), decoded[..count], target.Slice(start, count));
            }
        }

        public override void RoundInPlace(Span<float> values)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BFloat16Bits.ToFloat(BFloat16Bits.FromFloat(values[i]));
            }
        }
    }

    /// <summary>
    /// Symmetric int8 per block: a float32 scale (max|x|/127), then one code per value, x/scale rounded to nearest even.
    /// Blocks of 256 values: the scales cost 4/256 = 1.6 % on top of one byte a value (3.94x fewer bytes than float32),
    /// while an outlier coarsens only its own 256 neighbours, and a block stays a small stack buffer. The scale keeps
    /// 17 significant bits (its mantissa's low 7 bits cut): every code × scale (7 + 17 bits) is then exact in float32,
    /// a block's largest value decodes to exactly 127 × scale, and re-encoding decoded values gives back the same scale
    /// and codes, so rounding is idempotent as the ring needs; the cut costs 2^-16 of relative scale precision, nothing
    /// beside int8's 1/254. A block holding NaN or infinity decodes to NaN throughout, so divergence stays visible.
    /// </summary>
    internal sealed class Int8BlockFormat : WireFormat
    {
        public const int BlockSize = 256;

        private const int MaxCode = 127;

        public override int BlockValues => BlockSize;

        public override long EncodedBytes(long values) => values + (sizeof(float) * ((values + BlockSize - 1) / BlockSize));

        public override IMemoryOwner<byte> Encode(Memory<float> values)
        {
            var owner = new PooledBytes(checked((int)EncodedBytes(values.Length)));
            Span<byte> output = owner.Memory.Span;
            ReadOnlySpan<float> input = values.Span;
            for (int start = 0; start < input.Length; start += BlockSize)
            {
                ReadOnlySpan<float> block = input.Slice(start, Math.Min(BlockSize, input.Length - start));
                float scale = Scale(block);
                BinaryPrimitives.WriteSingleLittleEndian(output, scale);
                Span<sbyte> codes = MemoryMarshal.Cast<byte, sbyte>(output.Slice(sizeof(float), block.Length));
                for (int i = 0; i < block.Length; i++)
                {
                    codes[i] = Code(block[i], scale);
                }

                output = output[(sizeof(float) + block.Length)..];
            }

            return owner;
        }

        public override void Decode(ReadOnlySpan<byte> encoded, Span<float> target, bool accumulate)
        {
            for (int start = 0; start < target.Length; start += BlockSize)
            {
                Span<float> block = target.Slice(start, Math.Min(BlockSize, target.Length - start));
                float scale = BinaryPrimitives.ReadSingleLittleEndian(encoded);
                ReadOnlySpan<sbyte> codes = MemoryMarshal.Cast<byte, sbyte>(encoded.Slice(sizeof(float), block.Length));
                for (int i = 0; i < block.Length; i++)
                {
                    block[i] = accumulate ? block[i] + (codes[i] * scale) : codes[i] * scale;
                }

                encoded = encoded[(sizeof(float) + block.Length)..];
            }
        }

        public override void RoundInPlace(Span<float> values)
        {
            for (int start = 0; start < values.Length; start += BlockSize)
            {
                Span<float> block = values.Slice(start, Math.Min(BlockSize, values.Length - start));
                float scale = Scale(block);
                for (int i = 0; i < block.Length; i++)
                {
                    block[i] = Code(block[i], scale) * scale;
                }
            }
        }

        /// <summary>max|x|/127 with 17 significant bits (see the class); zero for a block of zeros, NaN when the block is not finite.</summary>
        internal static float Scale(ReadOnlySpan<float> block)
        {
            float largest = Math.Abs(TensorPrimitives.MaxMagnitude(block));
            if (!float.IsFinite(largest))
            {
                return float.NaN;
            }

            // Cutting (not rounding) keeps 127 × scale ≤ max|x|, so it never overflows, and max|x|/scale stays below 127.5.
            return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(largest / MaxCode) & ~0x7Fu);
        }

        internal static sbyte Code(float value, float scale) =>
            scale == 0 ? (sbyte)0 : (sbyte)Math.Clamp(MathF.Round(value / scale), -MaxCode, MaxCode);
    }

    /// <summary>An exactly sized view of a pooled array, returned to the pool on dispose.</summary>
    private sealed class PooledBytes(int length) : IMemoryOwner<byte>
    {
        private byte[]? _array = ArrayPool<byte>.Shared.Rent(length);

        public Memory<byte> Memory => _array.AsMemory(0, length);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _array, null) is { } array)
            {
                ArrayPool<byte>.Shared.Return(array);
            }
        }
    }
}

/// <summary>
/// bfloat16 as the upper 16 bits of a float32 (.NET 10 has no BFloat16 type). Rounding is to nearest, ties to even,
/// as PyTorch's float→bfloat16 cast; NaN stays a (quiet) NaN of the same sign, infinities stay infinite.
/// </summary>
public static class BFloat16Bits
{
    public static ushort FromFloat(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x0040);
        }

        // Adding 0x7FFF plus the lowest kept bit rounds half to even; a carry into the exponent is the right result.
        bits += 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)(bits >> 16);
    }

    public static float ToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static void FromFloats(ReadOnlySpan<float> values, Span<ushort> destination)
    {
        for (int i = 0; i < values.Length; i++)
        {
            destination[i] = FromFloat(values[i]);
        }
    }

    public static void ToFloats(ReadOnlySpan<ushort> bits, Span<float> destination)
    {
        for (int i = 0; i < bits.Length; i++)
        {
            destination[i] = ToFloat(bits[i]);
        }
    }
}
