using DesLoc.Contract.Collectives;
using DesLoc.Contract.Spec;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// What a <see cref="SyncSpec.Compression"/> value means on the wire: the format state travels in (parameters, moments,
/// gradients: <see cref="ICollective.AllReduceMeanAsync"/>, broadcasts) and the format of pseudo-gradients, whose
/// senders feed back what the wire loses (<see cref="ICollective.AllReduceMeanFedBackAsync"/>). int8 rounds each value by
/// up to half a block's step; state has no residual to carry that into the next exchange, so the error would stay in
/// the model, which is why under int8 state travels as bf16 and only pseudo-gradients as int8.
/// </summary>
public sealed record WireCompression(WireFormat State, WireFormat PseudoGradient)
{
    public static WireCompression None { get; } = new(WireFormat.Uncompressed, WireFormat.Uncompressed);

    public static WireCompression Bf16 { get; } = new(WireFormat.Bf16, WireFormat.Bf16);

    public static WireCompression BlockInt8 { get; } = new(WireFormat.Bf16, WireFormat.BlockInt8);

    /// <summary>The formats a <see cref="SyncSpec.Compression"/> value names.</summary>
    public static WireCompression For(string compression) => compression switch
    {
        SyncSpec.NoCompression => None,
        SyncSpec.Bf16Compression => Bf16,
        SyncSpec.Int8Compression => BlockInt8,
        _ => throw new ArgumentException(
            $"sync.compression must be {SyncSpec.NoCompression}, {SyncSpec.Bf16Compression} or {SyncSpec.Int8Compression} (got '{compression}').", nameof(compression)),
    };
}
