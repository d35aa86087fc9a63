using DesLoc.Contract.Collectives;
using DesLoc.Transport.Collectives;
using DesLoc.Transport.Tests.Grpc;

namespace DesLoc.Transport.Tests.Collectives;

public sealed class WireFormatTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(0x3F800000u, (ushort)0x3F80)]   // 1.0 exactly
    [InlineData(0x3F808000u, (ushort)0x3F80)]   // 1 + half an ulp: a tie, to the even 0x3F80
    [InlineData(0x3F818000u, (ushort)0x3F82)]   // 1 + 1.5 ulp: a tie, to the even 0x3F82
    [InlineData(0x3F808001u, (ushort)0x3F81)]   // just above the tie: up
    [InlineData(0x3F807FFFu, (ushort)0x3F80)]   // just below the tie: down
    [InlineData(0xBFC00000u, (ushort)0xBFC0)]   // -1.5 exactly
    [InlineData(0x7F800000u, (ushort)0x7F80)]   // +inf
    [InlineData(0xFF800000u, (ushort)0xFF80)]   // -inf
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)]   // float.MaxValue rounds past bf16's largest finite: +inf
    [InlineData(0x00000001u, (ushort)0x0000)]   // the smallest subnormal rounds to +0
    [InlineData(0x80000000u, (ushort)0x8000)]   // -0 keeps its sign
    public void FromFloat_RoundsToNearestEven(uint floatBits, ushort expected) =>
        Assert.Equal(expected, BFloat16Bits.FromFloat(BitConverter.UInt32BitsToSingle(floatBits)));

    [Theory]
    [InlineData(0x7FC00000u)]   // quiet NaN
    [InlineData(0x7F800001u)]   // signalling NaN whose payload is all in the dropped bits: must not become inf
    [InlineData(0xFFC00001u)]   // negative NaN
    public void FromFloat_KeepsNaNANaNOfTheSameSign(uint floatBits)
    {
        ushort bits = BFloat16Bits.FromFloat(BitConverter.UInt32BitsToSingle(floatBits));

        Assert.True(float.IsNaN(BFloat16Bits.ToFloat(bits)));
        Assert.Equal(floatBits >> 31, (uint)bits >> 15);
    }

    [Fact]
    public void For_NamesEachCompression()
    {
        Assert.Equal(new WireCompression(WireFormat.Uncompressed, WireFormat.Uncompressed), WireCompression.For(SyncSpec.NoCompression));
        Assert.Equal(new WireCompression(WireFormat.Bf16, WireFormat.Bf16), WireCompression.For(SyncSpec.Bf16Compression));
        // int8 only where the sender feeds the rounding back: pseudo-gradients; state travels as bf16.
        Assert.Equal(new WireCompression(WireFormat.Bf16, WireFormat.BlockInt8), WireCompression.For(SyncSpec.Int8Compression));
        Assert.Contains("sync.compression", Assert.Throws<ArgumentException>(() => WireCompression.For("int4")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("grpc", 2, 1000)]
    [InlineData("socket", 3, 1001)]
    [InlineData("socket", 4, 100_003)]
    public async Task Bf16AllReduce_EveryRankBitIdentical_WithinBf16OfTheMean_HalfTheBytes(string link, int world, int length)
    {
        // Odd-sized gRPC segments split bf16 values across messages.
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(world, link, segmentBytes: 63, compression: WireCompression.Bf16);
        var random = new Random(3);
        float[][] buffers = [.. Enumerable.Range(0, world).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray())];
        double[] exact = [.. Enumerable.Range(0, length).Select(i => buffers.Average(b => (double)b[i]))];

        long[] sent = await Task.WhenAll(Enumerable.Range(0, world).Select(r => group.Collectives[r].AllReduceMeanAsync(buffers[r], default).AsTask())).WaitAsync(s_timeout);

        for (int r = 0; r < world; r++)
        {
            Assert.Equal(buffers[0], buffers[r]);
            Assert.Equal(RingTraffic.AllReduceBytes(length, sizeof(ushort), world, r), sent[r]);
            Assert.Equal(RingTraffic.AllReduceBytes(length, sizeof(float), world, r), 2 * sent[r]);
        }

        for (int i = 0; i < length; i++)
        {
            // Values are bf16 themselves; each of the W-1 partial sums and the mean lose at most half an ulp (2^-9 relative) of |values| <= 4.
            Assert.Equal(buffers[0][i], BFloat16Bits.ToFloat(BFloat16Bits.FromFloat(buffers[0][i])));
            Assert.InRange(Math.Abs(buffers[0][i] - exact[i]), 0, world * 4 * Math.Pow(2, -8));
        }
    }

    [Fact]
    public async Task Bf16Broadcast_RootRoundsItsOwnBufferAsTheOthersReceiveIt()
    {
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(3, "socket", compression: WireCompression.Bf16);
        float[][] buffers = [[0, 0], [1.00390625f, 3.14159f], [0, 0]];

        long[] sent = await Task.WhenAll(Enumerable.Range(0, 3).Select(r => group.Collectives[r].BroadcastAsync(buffers[r], 1, default).AsTask())).WaitAsync(s_timeout);

        float[] expected = [1.0f, BFloat16Bits.ToFloat(BFloat16Bits.FromFloat(3.14159f))];
        Assert.All(buffers, buffer => Assert.Equal(expected, buffer));
        Assert.Equal([0, 2 * sizeof(ushort), 2 * sizeof(ushort)], sent.Select(b => (int)b));   // rank 0, the root's predecessor, forwards nothing
    }

    [Fact]
    public async Task InMemoryGroup_Bf16_SameRoundingAndBytesAsTheRing()
    {
        const int world = 3;
        const int length = 1001;
        var group = new InMemoryCollectiveGroup(world, WireCompression.Bf16);
        var random = new Random(5);
        float[][] buffers = [.. Enumerable.Range(0, world).Select(_ => Enumerable.Range(0, length).Select(_ => (float)random.NextDouble()).ToArray())];
        double[] exact = [.. Enumerable.Range(0, length).Select(i => buffers.Average(b => (double)b[i]))];

        long[] sent = await Task.WhenAll(Enumerable.Range(0, world).Select(r => group[r].AllReduceMeanAsync(buffers[r], default).AsTask()));

        for (int r = 0; r < world; r++)
        {
            Assert.Equal(buffers[0], buffers[r]);
            Assert.Equal(RingTraffic.AllReduceBytes(length, sizeof(ushort), world, r), sent[r]);
        }

        for (int i = 0; i < length; i++)
        {
            Assert.Equal(buffers[0][i], BFloat16Bits.ToFloat(BFloat16Bits.FromFloat(buffers[0][i])));
            Assert.InRange(Math.Abs(buffers[0][i] - exact[i]), 0, 2 * Math.Pow(2, -8));
        }
    }
}
