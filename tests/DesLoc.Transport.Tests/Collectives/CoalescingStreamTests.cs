using System.Net;
using System.Net.Sockets;
using DesLoc.Transport.Collectives;

namespace DesLoc.Transport.Tests.Collectives;

/// <summary><see cref="CoalescingStream"/> over a real loopback TCP connection, with a 64-byte buffer.</summary>
public sealed class CoalescingStreamTests
{
    private const int BufferBytes = 64;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Writes_SmallerLargerAndAcrossTheBuffer_ArriveByteIdenticalInOrderAfterFlush()
    {
        (Socket client, Socket server) = await ConnectedPairAsync();
        await using var peer = new NetworkStream(server, ownsSocket: true);
        await using var stream = new CoalescingStream(new NetworkStream(client, ownsSocket: true), BufferBytes);
        // Large from an empty buffer (200, 64: straight through); small ones that fill it exactly (1+3+10+50); large
        // onto a partly full one (10, then 300: 54 fill it, 246 go through); zero; and 5 left for the flush.
        int[] sizes = [200, 1, 3, 10, 50, 64, 10, 300, 7, 60, 0, 2, 128, 5];
        byte[] sent = Bytes(sizes.Sum(), seed: 1);

        int offset = 0;
        foreach (int size in sizes)
        {
            await stream.WriteAsync(sent.AsMemory(offset, size));
            offset += size;
        }

        await stream.FlushAsync();

        byte[] received = new byte[sent.Length];
        await peer.ReadExactlyAsync(received).AsTask().WaitAsync(s_timeout);
        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task Writes_SmallerThanTheBuffer_SendNothingUntilFlush()
    {
        (Socket client, Socket server) = await ConnectedPairAsync();
        await using var peer = new NetworkStream(server, ownsSocket: true);
        var network = new NetworkStream(client, ownsSocket: true);
        await using var stream = new CoalescingStream(network, BufferBytes);
        byte[] sent = Bytes(60, seed: 2);

        await stream.WriteAsync(sent.AsMemory(0, 10));
        await stream.WriteAsync(sent.AsMemory(10, 20));
        await stream.WriteAsync(sent.AsMemory(30, 30));
        // A marker written past the buffer, straight on the socket: TCP keeps order, so it arrives first only if
        // none of the 60 bytes went out before the flush. No timing involved.
        await network.WriteAsync(new byte[] { 0xEE });
        await stream.FlushAsync();

        byte[] received = new byte[1 + sent.Length];
        await peer.ReadExactlyAsync(received).AsTask().WaitAsync(s_timeout);
        Assert.Equal(0xEE, received[0]);
        Assert.Equal(sent, received[1..]);
    }

    [Fact]
    public async Task Reads_SmallerThanWhatArrived_HandOutTheRemainderOverLaterReads()
    {
        (Socket client, Socket server) = await ConnectedPairAsync();
        using Socket peer = server;
        await using var stream = new CoalescingStream(new NetworkStream(client, ownsSocket: true), BufferBytes);
        byte[] sent = Bytes(100, seed: 3);
        await peer.SendAsync(sent);
        // All 100 bytes wait on the socket before the first read, so what each inner read takes is fixed.
        using (var arrived = new CancellationTokenSource(s_timeout))
        {
            while (client.Available < sent.Length)
            {
                await Task.Delay(1, arrived.Token);
            }
        }

        var received = new List<byte>();
        var counts = new List<int>();
        foreach (int asked in new[] { 10, 200, 5, 200 })
        {
            byte[] piece = new byte[asked];
            int count = await stream.ReadAsync(piece).AsTask().WaitAsync(s_timeout);
            counts.Add(count);
            received.AddRange(piece[..count]);
        }

        // The first read fills the buffer (64) and hands out 10; a large read then gets the other 54 before the socket
        // is read again; the third fills the buffer with the last 36 and hands out 5; the fourth gets the 31 left.
        Assert.Equal([10, 54, 5, 31], counts);
        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task ReadingAndWriting_BothWaysAtOnce_OnTheSameStreams_DoesNotDeadlock()
    {
        // Small socket buffers, and far more bytes each way than they hold: if a write waited on a read (or the
        // other way round) on the same stream, both ends would block writing.
        (Socket client, Socket server) = await ConnectedPairAsync(socketBufferBytes: 8 << 10);
        await using var a = new CoalescingStream(new NetworkStream(client, ownsSocket: true), BufferBytes);
        await using var b = new CoalescingStream(new NetworkStream(server, ownsSocket: true), BufferBytes);
        byte[] fromA = Bytes(1 << 20, seed: 4);
        byte[] fromB = Bytes(1 << 20, seed: 5);
        byte[] atA = new byte[fromB.Length];
        byte[] atB = new byte[fromA.Length];

        await Task.WhenAll(WriteAsync(a, fromA), WriteAsync(b, fromB), a.ReadExactlyAsync(atA).AsTask(), b.ReadExactlyAsync(atB).AsTask())
            .WaitAsync(s_timeout);

        Assert.Equal(fromA, atB);
        Assert.Equal(fromB, atA);

        static async Task WriteAsync(Stream stream, byte[] bytes)
        {
            // Mixed sizes, so some writes gather in the buffer and some go straight through.
            for (int offset = 0, i = 0; offset < bytes.Length; i++)
            {
                int size = Math.Min(bytes.Length - offset, i % 3 == 0 ? 5000 : 40);
                await stream.WriteAsync(bytes.AsMemory(offset, size));
                offset += size;
            }

            await stream.FlushAsync();
        }
    }

    private static byte[] Bytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Two ends of one loopback TCP connection, Nagle off; <paramref name="socketBufferBytes"/> sizes both ends' kernel buffers.</summary>
    private static async Task<(Socket Client, Socket Server)> ConnectedPairAsync(int socketBufferBytes = 0)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (socketBufferBytes > 0)
        {
            // Set before connecting (the accepted socket inherits the listener's), so the window is small from the start.
            foreach (Socket socket in new[] { listener, client })
            {
                socket.SendBufferSize = socketBufferBytes;
                socket.ReceiveBufferSize = socketBufferBytes;
            }
        }

        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        Task<Socket> accepting = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!).WaitAsync(s_timeout);
        Socket server = await accepting.WaitAsync(s_timeout);
        server.NoDelay = true;
        return (client, server);
    }
}
