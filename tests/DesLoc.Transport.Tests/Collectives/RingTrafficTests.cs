using DesLoc.Contract.Collectives;

namespace DesLoc.Transport.Tests.Collectives;

public sealed class RingTrafficTests
{
    [Theory]
    [InlineData(1000, 4)]
    [InlineData(1003, 4)]
    [InlineData(7, 3)]
    [InlineData(5, 8)]
    public void AllReduceBytes_SummedOverRanks_IsTwiceTheBufferPerStep(long elements, int world)
    {
        long total = Enumerable.Range(0, world).Sum(rank => RingTraffic.AllReduceBytes(elements, 4, world, rank));

        // Every chunk is sent W-1 times in reduce-scatter and W-1 times in all-gather.
        Assert.Equal(2L * (world - 1) * elements * 4, total);
    }

    [Fact]
    public void AllReduceBytes_DivisibleBuffer_EveryRankSendsTwoTimesWMinusOneOverW()
    {
        for (int rank = 0; rank < 4; rank++)
        {
            Assert.Equal(2L * 3 * 250 * 4, RingTraffic.AllReduceBytes(1000, 4, 4, rank));
        }
    }

    [Fact]
    public void AllReduceBytes_SingleReplica_SendsNothing() =>
        Assert.Equal(0, RingTraffic.AllReduceBytes(1000, 4, 1, 0));

    [Fact]
    public void AllGatherBytes_EachRankForwardsAllButItsSuccessorsPayload()
    {
        long[] payloads = [10, 20, 30, 40];

        Assert.Equal(10 + 40 + 30, RingTraffic.AllGatherBytes(payloads, 0));
        Assert.Equal(20 + 10 + 40, RingTraffic.AllGatherBytes(payloads, 1));
        Assert.Equal(3 * payloads.Sum(), Enumerable.Range(0, 4).Sum(r => RingTraffic.AllGatherBytes(payloads, r)));
    }

    [Fact]
    public void BroadcastBytes_AllButTheRootsPredecessorForwardOnce()
    {
        long[] sent = Enumerable.Range(0, 4).Select(r => RingTraffic.BroadcastBytes(100, 4, root: 1, rank: r)).ToArray();

        Assert.Equal([0, 100, 100, 100], sent);
    }

    [Fact]
    public void AllReduceBytes_RankOutsideGroup_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RingTraffic.AllReduceBytes(10, 4, 4, 4));
}

public sealed class RingTrafficChunkTests
{
    [Theory]
    [InlineData(1003, 4)]
    [InlineData(7, 3)]
    [InlineData(5, 8)]
    public void ChunkStart_ChunksTileTheBufferInOrder(long elements, int world)
    {
        long next = 0;
        for (int chunk = 0; chunk < world; chunk++)
        {
            Assert.Equal(next, RingTraffic.ChunkStart(elements, world, chunk));
            next += RingTraffic.ChunkLength(elements, world, chunk);
        }

        Assert.Equal(elements, next);
    }
}
