using DesLoc.Contract.Wire;
using DesLoc.Contract.Collectives;
using DesLoc.Transport.Collectives;
using DesLoc.Transport.Grpc;
using DesLoc.Transport.Membership;
using DesLoc.Transport.Protocol;
using Grpc.Core;

using DesLoc.Transport.Tests.Grpc;

namespace DesLoc.Transport.Tests.Collectives;

public sealed class RingCollectiveTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("grpc", 2, 1000)]
    [InlineData("grpc", 3, 1001)]
    [InlineData("grpc", 4, 7)]
    [InlineData("socket", 2, 1000)]
    [InlineData("socket", 3, 1001)]
    [InlineData("socket", 4, 300_007)]
    public async Task AllReduceMean_GivesEveryReplicaTheMeanAndSendsTheRingBytes(string link, int world, int length)
    {
        // 64-byte gRPC segments: every ring step spans many messages, so reassembly and overlap are exercised.
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(world, link, segmentBytes: 64);
        float[][] buffers = [.. Enumerable.Range(0, world).Select(r => Enumerable.Range(0, length).Select(i => (float)(r * 1000 + i)).ToArray())];

        long[] sent = await Task.WhenAll(Enumerable.Range(0, world).Select(r => group.Collectives[r].AllReduceMeanAsync(buffers[r], default).AsTask())).WaitAsync(s_timeout);

        float offset = 1000f * (world - 1) / 2;
        for (int r = 0; r < world; r++)
        {
            for (int i = 0; i < length; i++)
            {
                Assert.Equal(i + offset, buffers[r][i], 1e-3f);
            }

            Assert.Equal(buffers[0], buffers[r]);   // bit-identical on every replica
            Assert.Equal(RingTraffic.AllReduceBytes(length, 4, world, r), sent[r]);
        }
    }

    [Theory]
    [InlineData("grpc")]
    [InlineData("socket")]
    public async Task AllGather_DeliversEveryPayloadInRankOrder(string link)
    {
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(3, link, segmentBytes: 5);

        GatherResult[] results = await Task.WhenAll(Enumerable.Range(0, 3)
            .Select(r => group.Collectives[r].AllGatherAsync(Enumerable.Repeat((byte)(r + 1), 3 + 4 * r).ToArray(), default).AsTask())).WaitAsync(s_timeout);

        foreach (GatherResult result in results)
        {
            Assert.Equal([3, 7, 11], result.Payloads.Select(p => p.Length));
            Assert.All(Enumerable.Range(0, 3), r => Assert.All(result.Payloads[r].ToArray(), b => Assert.Equal(r + 1, b)));
        }

        Assert.Equal(RingTraffic.AllGatherBytes([3, 7, 11], 1), results[1].BytesSent);
    }

    [Theory]
    [InlineData("grpc")]
    [InlineData("socket")]
    public async Task Broadcast_CopiesTheRootsBuffer(string link)
    {
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(3, link);
        float[][] buffers = [.. Enumerable.Range(0, 3).Select(r => new[] { r, r + 0.5f })];

        await Task.WhenAll(Enumerable.Range(0, 3).Select(r => group.Collectives[r].BroadcastAsync(buffers[r], 1, default).AsTask())).WaitAsync(s_timeout);

        Assert.All(buffers, b => Assert.Equal([1f, 1.5f], b));
    }

    [Theory]
    [InlineData("grpc")]
    [InlineData("socket")]
    public async Task AllReduceMean_SuccessorDown_FailsTheRoundWithinTheTimeout(string link)
    {
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(3, link, timeout: TimeSpan.FromSeconds(2));
        await group.StopAsync(1);

        Task round = group.Collectives[0].AllReduceMeanAsync(new float[100], default).AsTask();

        await Assert.ThrowsAsync<RoundFailedException>(() => round.WaitAsync(s_timeout));
    }

    [Theory]
    [InlineData("grpc")]
    [InlineData("socket")]
    public async Task AllReduceMean_WithinAQuorum_UsesOnlyItsMembers(string link)
    {
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(3, link);
        var quorum = new QuorumView(5, [0, 2]);
        group.Collectives[0].Quorum = quorum;
        group.Collectives[2].Quorum = quorum;
        float[] a = [2f];
        float[] c = [6f];

        await Task.WhenAll(group.Collectives[0].AllReduceMeanAsync(a, default).AsTask(), group.Collectives[2].AllReduceMeanAsync(c, default).AsTask()).WaitAsync(s_timeout);

        Assert.Equal(4f, a[0]);
        Assert.Equal(4f, c[0]);
        Assert.Equal(2, group.Collectives[0].WorldSize);
    }

    [Fact]
    public async Task DataConnection_WithAWrongToken_IsDroppedBeforeAnyData()
    {
        using JobTls tls = JobTls.From(LoopbackGroup.IssueLoopback());
        await using var plane = new SocketDataPlane(System.Net.IPAddress.Loopback, 0, "right", tls);
        await using var intruder = new SocketDataPlane(System.Net.IPAddress.Loopback, 0, "wrong", tls);

        await using Stream connection = (await intruder.OutgoingAsync(1, 0, 1, "127.0.0.1", plane.Port, default)).Single();
        Task<Stream[]> accepted = plane.IncomingAsync(1, 0, default);
        int read = await connection.ReadAsync(new byte[1]).AsTask().WaitAsync(s_timeout);

        Assert.Equal(0, read);   // the listener closed it
        Assert.False(accepted.IsCompleted);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong")]
    public async Task Call_WithoutTheJobToken_IsRefused(string? token)
    {
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(1);
        using var peers = new PeerDirectory(group.Addresses, token ?? "", group.Tls);
        Metadata headers = token is null ? [] : JobToken.Headers(token);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await peers.Replica(0).PingAsync(new PingRequest(), headers));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task Call_WithTheJobToken_IsServed()
    {
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(1);

        PingReply reply = await group.Peers[0].Replica(0).PingAsync(new PingRequest(), JobToken.Headers(LoopbackGroup.Token));

        Assert.Equal(7, reply.Step);
    }
}
