using System.Buffers;
using System.Buffers.Binary;
using DesLoc.Contract.Collectives;
using DesLoc.Transport.Collectives;
using DesLoc.Transport.Tests.Grpc;

namespace DesLoc.Transport.Tests.Collectives;

public sealed class BlockInt8Tests
{
    private const int Block = 256;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private static readonly WireFormat s_int8 = WireFormat.BlockInt8;

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 5)]
    [InlineData(256, 260)]
    [InlineData(257, 265)]
    [InlineData(1000, 1016)]
    public void EncodedBytes_OneBytePerValuePlusAFloatScalePerBlock(long values, long expected) =>
        Assert.Equal(expected, s_int8.EncodedBytes(values));

    [Fact]
    public void Encode_EachBlockHasItsOwnScale_AndDecodesWithinHalfAStep()
    {
        var random = new Random(7);
        // Blocks of very different magnitudes, and a short last block.
        float[] values = [.. Enumerable.Range(0, 1000).Select(i => (float)((random.NextDouble() - 0.5) * Math.Pow(10, (i / Block) - 2)))];

        byte[] encoded = Encode(values);
        float[] decoded = new float[values.Length];
        s_int8.Decode(encoded, decoded, accumulate: false);

        Assert.Equal(s_int8.EncodedBytes(values.Length), encoded.Length);
        for (int block = 0; block * Block < values.Length; block++)
        {
            float[] part = [.. values.Skip(block * Block).Take(Block)];
            float scale = BinaryPrimitives.ReadSingleLittleEndian(encoded.AsSpan(block * (Block + sizeof(float))));
            double largest = part.Max(v => Math.Abs((double)v));
            Assert.InRange(scale, largest / 127 * (1 - Math.Pow(2, -16)), largest / 127);
            for (int i = 0; i < part.Length; i++)
            {
                Assert.InRange(Math.Abs(decoded[(block * Block) + i] - part[i]), 0, scale / 2);
            }
        }
    }

    [Fact]
    public void Decode_Accumulating_AddsTheDecodedValues()
    {
        float[] values = [.. Enumerable.Range(0, 300).Select(i => i / 100f)];
        float[] decoded = new float[values.Length];
        s_int8.Decode(Encode(values), decoded, accumulate: false);
        float[] target = [.. Enumerable.Repeat(1f, values.Length)];

        s_int8.Decode(Encode(values), target, accumulate: true);

        Assert.Equal(decoded.Select(v => v + 1f), target);
    }

    public static TheoryData<string, float[]> SpecialBlocks => new()
    {
        { "zeros", new float[300] },
        { "all equal", [.. Enumerable.Repeat(0.3f, 300)] },
        { "huge", [float.MaxValue, -float.MaxValue, 3e38f, 1f, .. new float[296]] },
        { "tiny", [float.Epsilon, -float.Epsilon, 1e-40f, 1e-38f, .. new float[296]] },
    };

    [Theory]
    [MemberData(nameof(SpecialBlocks))]
    public void Encode_SpecialBlocks_StayFiniteWithinHalfAStep(string name, float[] values)
    {
        byte[] encoded = Encode(values);
        float[] decoded = new float[values.Length];
        s_int8.Decode(encoded, decoded, accumulate: false);

        float scale = BinaryPrimitives.ReadSingleLittleEndian(encoded);
        Assert.True(float.IsFinite(scale), name);
        for (int i = 0; i < Block; i++)
        {
            Assert.True(float.IsFinite(decoded[i]), $"{name}: value {i} decoded to {decoded[i]}");
            // Below the smallest scale (max|x| / 127 underflowing) a value may be lost, never more than that.
            Assert.InRange(Math.Abs((double)decoded[i] - values[i]), 0, Math.Max(scale / 2.0, 127 * (double)float.Epsilon));
        }
    }

    [Fact]
    public void Encode_ABlockWithNaNOrInfinity_DecodesToNaN_OtherBlocksUntouched()
    {
        float[] values = [.. Enumerable.Range(0, 3 * Block).Select(i => i / 1000f)];
        values[3] = float.NaN;
        values[Block + 5] = float.PositiveInfinity;
        float[] decoded = new float[values.Length];

        s_int8.Decode(Encode(values), decoded, accumulate: false);

        Assert.All(decoded[..(2 * Block)], v => Assert.True(float.IsNaN(v)));
        Assert.All(decoded[(2 * Block)..], v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void RoundInPlace_IsIdempotent_AndEncodesToExactlyWhatItHolds()
    {
        var random = new Random(11);
        for (int trial = 0; trial < 200; trial++)
        {
            // Magnitudes over the whole float range, where a plain max/127 scale would drift by an ulp on re-encoding.
            double magnitude = Math.Pow(2, random.Next(-120, 120));
            float[] values = [.. Enumerable.Range(0, 1 + random.Next(600)).Select(_ => (float)((random.NextDouble() - 0.5) * magnitude))];
            s_int8.RoundInPlace(values);
            float[] again = [.. values];
            s_int8.RoundInPlace(again);
            float[] decoded = new float[values.Length];
            s_int8.Decode(Encode(values), decoded, accumulate: false);

            Assert.Equal(values, again);
            Assert.Equal(values, decoded);
            Assert.Equal(Encode(values), Encode(decoded));
        }
    }

    [Fact]
    public void RoundInPlace_WithAResidual_KeepsWhatWasLost()
    {
        float[] values = [1f, 0.001f, -0.5f, 0.0042f];
        float[] residual = [0.25f, 0, 0, 0];
        float[] rounded = [.. values];

        s_int8.RoundInPlace(rounded, residual, weight: 2);

        Assert.Equal(0.25f + (2 * (values[0] - rounded[0])), residual[0]);
        Assert.Equal(2 * 0.001f, residual[1]);   // below half a step: all of it lost, all of it kept
        for (int i = 1; i < values.Length; i++)
        {
            Assert.Equal(2 * (values[i] - rounded[i]), residual[i], 1e-9f);
        }
    }

    /// <summary>
    /// A constant pseudo-gradient per replica, 200 rounds. Large components set each block's step (1/127); the small
    /// ones (0.001, under half a step) round to zero every round. With feedback the group's accumulated mean stays
    /// within one step of the true accumulated mean at every round, so the small components get through; without it
    /// they never do and the gap grows by 0.001 a round.
    /// </summary>
    [Theory]
    [InlineData("memory", true)]
    [InlineData("memory", false)]
    [InlineData("socket", true)]
    public async Task FedBackAllReduce_OverManyRounds_AccumulatedErrorStaysWithinAStep_OnlyWithFeedback(string group, bool feedBack)
    {
        const int world = 3;
        const int length = 700;
        const int rounds = 200;
        float[][] inputs = [.. Enumerable.Range(0, world).Select(r => Enumerable.Range(0, length).Select(i => i % 50 == 0 ? 1f - (0.1f * r) : 0.001f * (1 + (i % 3))).ToArray())];
        double[] trueMean = [.. Enumerable.Range(0, length).Select(i => inputs.Average(x => (double)x[i]))];
        double step = 1.0 / 127;
        await using var collectives = await GroupAsync(group, world, WireCompression.BlockInt8);
        float[][] residuals = [.. Enumerable.Range(0, world).Select(_ => new float[length])];
        double[] received = new double[length];
        double worst = 0;

        for (int round = 1; round <= rounds; round++)
        {
            float[][] buffers = [.. Enumerable.Range(0, world).Select(r => inputs[r].Zip(residuals[r], (x, e) => x + e).ToArray())];
            foreach (float[] residual in residuals)
            {
                Array.Clear(residual);
            }

            await Task.WhenAll(Enumerable.Range(0, world).Select(r => collectives[r].AllReduceMeanFedBackAsync(buffers[r], residuals[r], default).AsTask())).WaitAsync(s_timeout);
            if (!feedBack)
            {
                foreach (float[] residual in residuals)
                {
                    Array.Clear(residual);
                }
            }

            for (int i = 0; i < length; i++)
            {
                received[i] += buffers[0][i];
                worst = Math.Max(worst, Math.Abs(received[i] - (round * trueMean[i])));
            }
        }

        if (feedBack)
        {
            Assert.InRange(worst, 0, step);
        }
        else
        {
            // The small components never arrive: 200 rounds of 0.001 to 0.003 lost, far beyond one step.
            Assert.InRange(worst, 0.9 * rounds * 0.003, double.MaxValue);
            Assert.True(worst > 40 * step);
        }
    }

    [Theory]
    [InlineData("grpc", 2, 1000)]
    [InlineData("socket", 3, 1001)]
    [InlineData("socket", 4, 100_003)]
    [InlineData("memory", 3, 1001)]
    public async Task Int8FedBackAllReduce_EveryRankBitIdentical_ResidualsAccountForTheLoss_BytesAsTheFormula(string link, int world, int length)
    {
        await using var collectives = await GroupAsync(link, world, WireCompression.BlockInt8);
        var random = new Random(3);
        float[][] buffers = [.. Enumerable.Range(0, world).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray())];
        double[] exact = [.. Enumerable.Range(0, length).Select(i => buffers.Average(b => (double)b[i]))];
        float[][] residuals = [.. Enumerable.Range(0, world).Select(_ => new float[length])];

        long[] sent = await Task.WhenAll(Enumerable.Range(0, world).Select(r => collectives[r].AllReduceMeanFedBackAsync(buffers[r], residuals[r], default).AsTask())).WaitAsync(s_timeout);

        for (int r = 0; r < world; r++)
        {
            Assert.Equal(buffers[0], buffers[r]);
            Assert.Equal(RingTraffic.AllReduceBytes(length, s_int8.EncodedBytes, world, r), sent[r]);
        }

        float[] rounded = [.. buffers[0]];
        for (int chunk = 0; chunk < world; chunk++)
        {
            s_int8.RoundInPlace(rounded.AsSpan((int)RingTraffic.ChunkStart(length, world, chunk), (int)RingTraffic.ChunkLength(length, world, chunk)));
        }

        Assert.Equal(buffers[0], rounded);   // the mean is int8 on the blocks of its ring chunks, as every rank decoded it
        for (int i = 0; i < length; i++)
        {
            // What every rank received plus the mean residual is the mean sent, up to float32 sums.
            double kept = residuals.Average(e => (double)e[i]);
            Assert.InRange(Math.Abs(buffers[0][i] + kept - exact[i]), 0, 1e-5);
            Assert.InRange(Math.Abs(buffers[0][i] - exact[i]), 0, world * 4.0 / 127);
        }
    }

    [Fact]
    public async Task Int8Compression_StateAllReduce_TravelsAsBf16()
    {
        const int world = 3;
        const int length = 1001;
        await using var collectives = await GroupAsync("socket", world, WireCompression.BlockInt8);
        float[][] buffers = [.. Enumerable.Range(0, world).Select(r => Enumerable.Range(0, length).Select(i => (float)Math.Sin(i + r)).ToArray())];

        long[] sent = await Task.WhenAll(Enumerable.Range(0, world).Select(r => collectives[r].AllReduceMeanAsync(buffers[r], default).AsTask())).WaitAsync(s_timeout);

        for (int r = 0; r < world; r++)
        {
            Assert.Equal(buffers[0], buffers[r]);
            Assert.Equal(RingTraffic.AllReduceBytes(length, sizeof(ushort), world, r), sent[r]);
        }

        Assert.All(buffers[0], v => Assert.Equal(v, BFloat16Bits.ToFloat(BFloat16Bits.FromFloat(v))));
    }

    private static byte[] Encode(float[] values)
    {
        using IMemoryOwner<byte> encoded = s_int8.Encode(values.ToArray());
        return encoded.Memory.ToArray();
    }

    /// <summary>W collectives over an in-memory group, or a loopback ring whose odd-sized segments split blocks across messages.</summary>
    private static async Task<Members> GroupAsync(string link, int world, WireCompression compression)
    {
        if (link == "memory")
        {
            var group = new InMemoryCollectiveGroup(world, compression);
            return new Members([.. Enumerable.Range(0, world).Select(r => group[r])], null);
        }

        LoopbackGroup loopback = await LoopbackGroup.StartAsync(world, link, segmentBytes: 63, compression: compression);
        return new Members([.. loopback.Collectives], loopback);
    }

    private sealed class Members(IReadOnlyList<ICollective> members, LoopbackGroup? loopback) : IAsyncDisposable
    {
        public ICollective this[int rank] => members[rank];

        public ValueTask DisposeAsync() => loopback?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
