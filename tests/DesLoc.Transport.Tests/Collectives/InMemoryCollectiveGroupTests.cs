using DesLoc.Contract.Collectives;
using DesLoc.Transport.Collectives;

namespace DesLoc.Transport.Tests.Collectives;

public sealed class InMemoryCollectiveGroupTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AllReduceMean_FourReplicas_EveryReplicaHoldsTheSameMean()
    {
        var group = new InMemoryCollectiveGroup(4);
        float[][] buffers = Enumerable.Range(0, 4).Select(r => new[] { r, 10f * r, -r }).ToArray();

        long[] sent = await Task.WhenAll(Enumerable.Range(0, 4).Select(r => group[r].AllReduceMeanAsync(buffers[r], default).AsTask())).WaitAsync(s_timeout);

        foreach (float[] buffer in buffers)
        {
            Assert.Equal([1.5f, 15f, -1.5f], buffer);
        }

        Assert.Equal(Enumerable.Range(0, 4).Select(r => RingTraffic.AllReduceBytes(3, 4, 4, r)), sent);
    }

    [Fact]
    public async Task AllGather_PayloadsOfDifferentLengths_ArriveByRank()
    {
        var group = new InMemoryCollectiveGroup(3);

        GatherResult[] results = await Task.WhenAll(Enumerable.Range(0, 3)
            .Select(r => group[r].AllGatherAsync(Enumerable.Repeat((byte)r, r + 1).ToArray(), default).AsTask())).WaitAsync(s_timeout);

        foreach (GatherResult result in results)
        {
            Assert.Equal([[0], [1, 1], [2, 2, 2]], result.Payloads.Select(p => p.ToArray()));
        }
    }

    [Fact]
    public async Task Broadcast_FromRankTwo_CopiesItsBufferEverywhere()
    {
        var group = new InMemoryCollectiveGroup(3);
        float[][] buffers = Enumerable.Range(0, 3).Select(r => new[] { (float)r }).ToArray();

        await Task.WhenAll(Enumerable.Range(0, 3).Select(r => group[r].BroadcastAsync(buffers[r], 2, default).AsTask())).WaitAsync(s_timeout);

        Assert.All(buffers, b => Assert.Equal(2f, b[0]));
    }

    [Fact]
    public async Task AllReduceMean_ManyRoundsInFlight_PairsCallsByOrder()
    {
        var group = new InMemoryCollectiveGroup(2);

        async Task<float[]> Member(int rank)
        {
            var results = new float[50];
            for (int round = 0; round < 50; round++)
            {
                float[] value = [rank == 0 ? round : 3 * round];
                await group[rank].AllReduceMeanAsync(value, default);
                results[round] = value[0];
            }

            return results;
        }

        float[][] both = await Task.WhenAll(Member(0), Member(1)).WaitAsync(s_timeout);

        Assert.Equal(Enumerable.Range(0, 50).Select(r => 2f * r), both[0]);
        Assert.Equal(both[0], both[1]);
    }

    [Fact]
    public async Task AllReduceMean_LengthsDisagree_FailsEveryMemberWithBothLengths()
    {
        var group = new InMemoryCollectiveGroup(2);

        Task a = group[0].AllReduceMeanAsync(new float[3], default).AsTask();
        Task b = group[1].AllReduceMeanAsync(new float[4], default).AsTask();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => a.WaitAsync(s_timeout));
        await Assert.ThrowsAsync<InvalidOperationException>(() => b.WaitAsync(s_timeout));
        Assert.Contains("3 values", error.Message);
        Assert.Contains("4 values", error.Message);
    }

    [Fact]
    public async Task Abort_WhileAMemberWaits_ReleasesItWithTheReason()
    {
        var group = new InMemoryCollectiveGroup(2);
        Task waiting = group[0].AllReduceMeanAsync(new float[1], default).AsTask();

        group.Abort(new InvalidOperationException("replica 1 crashed"));

        var error = await Assert.ThrowsAsync<CollectiveAbortedException>(() => waiting.WaitAsync(s_timeout));
        Assert.Equal("replica 1 crashed", error.InnerException!.Message);
        await Assert.ThrowsAsync<CollectiveAbortedException>(() => group[1].AllReduceMeanAsync(new float[1], default).AsTask());
    }

    [Fact]
    public async Task AllReduceMean_Cancelled_StopsWaiting()
    {
        var group = new InMemoryCollectiveGroup(2);
        using var cancel = new CancellationTokenSource();
        Task waiting = group[0].AllReduceMeanAsync(new float[1], cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(s_timeout));
    }
}
