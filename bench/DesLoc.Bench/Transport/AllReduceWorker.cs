using DesLoc.Contract.Collectives;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using DesLoc.Contract.Wire;
using DesLoc.Transport.Collectives;
using DesLoc.Transport.Grpc;
using DesLoc.Transport.Protocol;
using Microsoft.AspNetCore.Builder;

namespace DesLoc.Bench.Transport;

/// <summary>
/// One process of the all-reduce benchmark: <c>allreduce-worker socket|grpc|tcp RANK WORLD ENDPOINTS MIB REPEATS [STREAMS [TLS-DIRECTORY]]</c>
/// (each rank's address:port, comma-separated; the socket data plane's connections per peer; the job's TLS files,
/// cleartext without). Prints
/// <c>RESULT seconds,seconds,...</c> (one per timed all-reduce) after a warm-up round.
/// </summary>
internal static class AllReduceWorker
{
    public static async Task<int> RunAsync(string[] args)
    {
        string transport = args[1];
        int rank = int.Parse(args[2], CultureInfo.InvariantCulture);
        int world = int.Parse(args[3], CultureInfo.InvariantCulture);
        IPEndPoint[] endpoints = [.. args[4].Split(',').Select(IPEndPoint.Parse)];
        int floats = int.Parse(args[5], CultureInfo.InvariantCulture) * (1 << 20) / sizeof(float);
        int repeats = int.Parse(args[6], CultureInfo.InvariantCulture);
        int streams = args.Length > 7 ? int.Parse(args[7], CultureInfo.InvariantCulture) : 1;
        using JobTls? tls = args.Length > 8 ? JobTls.Load(args[8]) : null;
        float[] buffer = new float[floats];
        Func<Task> allReduce = transport == "tcp"
            ? await TcpAsync(rank, world, endpoints, buffer)
            : await DesLocAsync(transport, rank, world, endpoints, buffer, streams, tls);

        await allReduce();   // warm-up (connections, JIT)
        var seconds = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            buffer.AsSpan().Fill(rank + i);
            var clock = Stopwatch.StartNew();
            await allReduce();
            seconds.Add(clock.Elapsed.TotalSeconds);
        }

        Console.WriteLine("RESULT " + string.Join(",", seconds.Select(s => s.ToString("R", CultureInfo.InvariantCulture))));
        await Task.Delay(500);   // let the successor drain its last segments before this server goes away
        return 0;
    }

    /// <summary>DesLoc's ring collective, over the gRPC link or the socket data plane (gRPC port + 1), with or without the job's TLS.</summary>
    private static async Task<Func<Task>> DesLocAsync(string link, int rank, int world, IPEndPoint[] endpoints, float[] buffer, int streams, JobTls? tls)
    {
        const string Token = "bench";
        var mailbox = new Mailbox();
        IPEndPoint own = endpoints[rank];
        WebApplication app = ReplicaServer.CreateBuilder(own.Address, own.Port, Token, tls, mailbox, new NoEndpoint(rank)).Build();
        ReplicaServer.MapServices(app);
        await app.StartAsync();
        var peers = new PeerDirectory([.. endpoints.Select(e => e.ToString())], Token, tls);
        IRingLink ringLink = link == "socket"
            ? new SocketRingLink(rank, [.. endpoints.Select(e => (e.Address.ToString(), e.Port + 1))], new SocketDataPlane(own.Address, own.Port + 1, Token, tls, streams))
            : new GrpcRingLink(rank, peers, mailbox);
        var collective = new RingCollective(rank, world, ringLink, TimeSpan.FromMinutes(2));
        await WaitForPeersAsync(peers, world);
        return async () => await collective.AllReduceMeanAsync(buffer, default);
    }

    private static async Task WaitForPeersAsync(PeerDirectory peers, int world)
    {
        for (int peer = 0; peer < world; peer++)
        {
            while (true)
            {
                try
                {
                    await peers.Replica(peer).PingAsync(new PingRequest(), JobToken.Headers(peers.Token));
                    break;
                }
                catch (Grpc.Core.RpcException)
                {
                    await Task.Delay(50);
                }
            }
        }
    }

    /// <summary>The same ring (chunks, steps, mean) over plain sockets: the ceiling for the gRPC transport.</summary>
    private static async Task<Func<Task>> TcpAsync(int rank, int world, IPEndPoint[] endpoints, float[] buffer)
    {
        var listener = new TcpListener(endpoints[rank]);
        listener.Start();
        Task<TcpClient> incoming = listener.AcceptTcpClientAsync();
        var outgoing = new TcpClient { NoDelay = true };
        while (true)
        {
            try
            {
                await outgoing.ConnectAsync(endpoints[(rank + 1) % world]);
                break;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        Socket send = outgoing.Client;
        Socket receive = (await incoming).Client;
        byte[] scratch = new byte[(buffer.Length / world + 1) * sizeof(float)];
        // Blocking socket calls on spans over the buffer itself: no copies but the unavoidable receive into scratch.
        void AllReduce()
        {
            for (int step = 0; step < 2 * (world - 1); step++)
            {
                bool reduce = step < world - 1;
                int s = reduce ? step : step - (world - 1);
                (int sendStart, int sendLength) = Chunk(buffer.Length, world, reduce ? Mod(rank - s, world) : Mod(rank + 1 - s, world));
                (int receiveStart, int receiveLength) = Chunk(buffer.Length, world, reduce ? Mod(rank - s - 1, world) : Mod(rank - s, world));
                Task sending = Task.Run(() => SendAll(send, MemoryMarshal.AsBytes(buffer.AsSpan(sendStart, sendLength))));
                Span<float> target = buffer.AsSpan(receiveStart, receiveLength);
                if (reduce)
                {
                    Span<byte> bytes = scratch.AsSpan(0, receiveLength * sizeof(float));
                    ReceiveAll(receive, bytes);
                    TensorPrimitives.Add(target, MemoryMarshal.Cast<byte, float>(bytes), target);
                }
                else
                {
                    ReceiveAll(receive, MemoryMarshal.AsBytes(target));
                }

                sending.Wait();
                if (step == world - 2)
                {
                    (int start, int length) = Chunk(buffer.Length, world, Mod(rank + 1, world));
                    TensorPrimitives.Divide(buffer.AsSpan(start, length), world, buffer.AsSpan(start, length));
                }
            }
        }

        return () => Task.Run(AllReduce);
    }

    private static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[socket.Send(data)..];
        }
    }

    private static void ReceiveAll(Socket socket, Span<byte> data)
    {
        while (!data.IsEmpty)
        {
            int read = socket.Receive(data);
            if (read == 0)
            {
                throw new IOException("The predecessor closed the connection.");
            }

            data = data[read..];
        }
    }

    private static (int Start, int Length) Chunk(int length, int world, int chunk) =>
        ((int)RingTraffic.ChunkStart(length, world, chunk), (int)RingTraffic.ChunkLength(length, world, chunk));

    private static int Mod(int value, int modulus) => ((value % modulus) + modulus) % modulus;

    private sealed class NoEndpoint(int rank) : IReplicaEndpoint
    {
        public int Rank => rank;

        public long Step => 0;

        public Task<byte[]> SnapshotAsync(CancellationToken cancellationToken) => Task.FromResult(Array.Empty<byte>());

        public StatusReply Status() => new() { Rank = rank };

        public SetSyncPeriodsReply SetSyncPeriods(SetSyncPeriodsRequest request) => new();
    }
}
