using System.Buffers;
using System.Runtime.InteropServices;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// A float32 buffer seen as bytes without copying, so ring segments are handed to gRPC with
/// <c>UnsafeByteOperations.UnsafeWrap</c> straight from the training buffer.
/// </summary>
internal sealed class FloatBytes(Memory<float> floats) : MemoryManager<byte>
{
    private MemoryHandle _pin;

    public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(floats.Span);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        _pin = floats.Pin();
        unsafe
        {
            return new MemoryHandle((byte*)_pin.Pointer + elementIndex);
        }
    }

    public override void Unpin() => _pin.Dispose();

    protected override void Dispose(bool disposing) => _pin.Dispose();
}
