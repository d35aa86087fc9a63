using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using DesLoc.Contract.Spec;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// How a collective puts float values on the wire (<c>sync.compression</c>): the encoding, its size, and the rounding
/// a sender applies to its own copy so that it holds what its receivers decode. Sums stay float32 whatever the format.
/// A further format (int8 with error feedback) joins by deriving from this class and adding its name to <see cref="For"/>.
/// </summary>
public abstract class WireFormat
{
    /// <summary>float32 as it is in memory, sent without a copy.</summary>
    public static WireFormat Uncompressed { get; } = new Float32Format();

    /// <summary>bfloat16, rounded to nearest even: half the bytes.</summary>
    public static WireFormat Bf16 { get; } = new BFloat16Format();

    /// <summary>Bytes one value takes on the wire.</summary>
    public abstract int BytesPerValue { get; }

    /// <summary>The format a <see cref="SyncSpec.Compression"/> value names.</summary>
    public static WireFormat For(string compression) => compression switch
    {
        SyncSpec.NoCompression => Uncompressed,
        SyncSpec.Bf16Compression => Bf16,
        _ => throw new ArgumentException($"sync.compression must be {SyncSpec.NoCompression} or {SyncSpec.Bf16Compression} (got '{compression}').", nameof(compression)),
    };

    /// <summary>The wire bytes of <paramref name="values"/>; dispose the owner once they are sent.</summary>
    public abstract IMemoryOwner<byte> Encode(Memory<float> values);

    /// <summary>Decodes <paramref name="encoded"/> (whole values) into <paramref name="target"/>, adding to it or replacing it.</summary>
    public abstract void Decode(ReadOnlySpan<byte> encoded, Span<float> target, bool accumulate);

    /// <summary>Replaces <paramref name="values"/> with what a receiver of them decodes.</summary>
    public abstract void RoundInPlace(Span<float> values);

    private sealed class Float32Format : WireFormat
    {
        public override int BytesPerValue => sizeof(float);

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
        public override int BytesPerValue => sizeof(ushort);

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
