using System.Runtime.InteropServices;
using DesLoc.Transport.Collectives;
using DesLoc.Transport.Tests.Grpc;

namespace DesLoc.Transport.Tests.Collectives;

/// <summary>Several connections per peer on the socket data plane: the striping and the bytes it delivers.</summary>
public sealed class StripedSocketTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(0, 4)]
    [InlineData(1, 4)]
    [InlineData(SocketRingLink.MinStripeBytes * 2 - 1, 4)]
    [InlineData(SocketRingLink.MinStripeBytes * 3 + 7, 2)]
    [InlineData(SocketRingLink.MinStripeBytes * 40 + 5, 16)]
    public void Stripes_CoverThePayloadInOrder_NoSliceShorterThanTheMinimumUnlessAlone(int length, int streams)
    {
        (int Start, int Length)[] stripes = SocketRingLink.Stripes(length, streams);

        Assert.InRange(stripes.Length, 1, streams);
        Assert.Equal(0, stripes[0].Start);
        Assert.All(stripes.Zip(stripes.Skip(1)), pair => Assert.Equal(pair.First.Start + pair.First.Length, pair.Second.Start));
        Assert.Equal(length, stripes[^1].Start + stripes[^1].Length);
        Assert.True(stripes.Length == 1 || stripes.All(s => s.Length >= SocketRingLink.MinStripeBytes));
        Assert.Equal(Math.Clamp(length / SocketRingLink.MinStripeBytes, 1, streams), stripes.Length);   // as many as fit
    }

    [Theory]
    [InlineData("float32", 2)]
    [InlineData("float32", 4)]
    [InlineData("bf16", 3)]
    [InlineData("int8", 2)]
    [InlineData("int8", 4)]
    public async Task AllReduce_OverThreeStreamsWithTls_IsBitIdenticalToOneStream(string format, int world)
    {
        // 2.4M values: every ring step's payload (a quarter to a half of it, 1 to 4 bytes a value) spans several stripes.
        const int length = 2_400_007;
        WireCompression compression = format switch { "float32" => WireCompression.None, "bf16" => WireCompression.Bf16, _ => WireCompression.BlockInt8 };
        WireFormat wire = format == "int8" ? compression.PseudoGradient : compression.State;
        Assert.True(SocketRingLink.Stripes((int)wire.EncodedBytes(length / world), 3).Length > 1, "the payload must be striped");
        var random = new Random(13);
        float[][] inputs = [.. Enumerable.Range(0, world).Select(_ => Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 4)))).ToArray())];

        (byte[] Values, byte[] Residuals)[] single = await AllReduceAsync(1);
        (byte[] Values, byte[] Residuals)[] striped = await AllReduceAsync(3);

        for (int r = 0; r < world; r++)
        {
            Assert.Equal(single[0].Values, single[r].Values);   // every rank ends bit-identical
            Assert.True(single[r].Values.AsSpan().SequenceEqual(striped[r].Values), $"rank {r}: the mean differs with three streams");
            Assert.True(single[r].Residuals.AsSpan().SequenceEqual(striped[r].Residuals), $"rank {r}: the residual differs with three streams");
        }

        Assert.NotEqual(MemoryMarshal.AsBytes(inputs[0].AsSpan()).ToArray(), single[0].Values);

        async Task<(byte[] Values, byte[] Residuals)[]> AllReduceAsync(int streams)
        {
            await using LoopbackGroup group = await LoopbackGroup.StartAsync(world, "socket", timeout: s_timeout, compression: compression, streams: streams);
            Assert.NotNull(group.Tls);
            Assert.All(group.Planes, plane => Assert.Equal(streams, plane.Streams));
            float[][] buffers = [.. inputs.Select(i => i.ToArray())];
            float[][] residuals = [.. inputs.Select(_ => new float[length])];
            await Task.WhenAll(Enumerable.Range(0, world).Select(r => format == "int8"
                ? group.Collectives[r].AllReduceMeanFedBackAsync(buffers[r], residuals[r], default).AsTask()
                : group.Collectives[r].AllReduceMeanAsync(buffers[r], default).AsTask())).WaitAsync(s_timeout);
            return [.. Enumerable.Range(0, world).Select(r => (MemoryMarshal.AsBytes(buffers[r].AsSpan()).ToArray(), MemoryMarshal.AsBytes(residuals[r].AsSpan()).ToArray()))];
        }
    }
}
