using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DesLoc.Transport.Grpc;
using DesLoc.Transport.Membership;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// Plain TCP connections for bulk ring traffic, beside the gRPC control plane. Each replica listens on its data
/// port (by convention the gRPC port + 1). A connection belongs to one quorum and one ordered pair of ranks; it
/// opens with a handshake carrying the job token, which is checked like the gRPC header, so an unauthenticated
/// peer is dropped before it can send a byte of data. A new quorum means new connections, so nothing from an
/// abandoned round can be read by the next one.
/// </summary>
public sealed class SocketDataPlane : IAsyncDisposable
{
    private const uint Magic = 0x4445534C; // "DESL"
    private readonly string _token;
    private readonly TcpListener _listener;
    private readonly ConcurrentDictionary<(ulong Quorum, int Sender), TaskCompletionSource<Socket>> _incoming = new();
    private readonly ConcurrentDictionary<(ulong Quorum, int Receiver), Task<Socket>> _outgoing = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _disposed;

    public SocketDataPlane(IPAddress address, int port, string token)
    {
        _token = token;
        _listener = new TcpListener(address, port);
        _listener.Start();
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The data port of a peer whose gRPC endpoint is <paramref name="grpcAddress"/> (host:port).</summary>
    public static (string Host, int Port) DataEndpointOf(string grpcAddress)
    {
        string hostPort = grpcAddress.Contains("://", StringComparison.Ordinal) ? new Uri(grpcAddress).Authority : grpcAddress;
        int colon = hostPort.LastIndexOf(':');
        return (hostPort[..colon], int.Parse(hostPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture) + 1);
    }

    /// <summary>The connection from <paramref name="receiver"/>'s point of view to it, for one quorum (opened once, reused by its operations).</summary>
    public Task<Socket> OutgoingAsync(ulong quorum, int sender, int receiver, string host, int port, CancellationToken cancellationToken) =>
        _outgoing.GetOrAdd((quorum, receiver), _ => ConnectAsync(quorum, sender, host, port, cancellationToken));

    /// <summary>The connection <paramref name="sender"/> opened to this replica for one quorum.</summary>
    public Task<Socket> IncomingAsync(ulong quorum, int sender, CancellationToken cancellationToken) =>
        _incoming.GetOrAdd((quorum, sender), _ => new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(cancellationToken);

    /// <summary>Closes the connections of every quorum of <paramref name="current"/>'s ring channel but <paramref name="current"/>.</summary>
    public void KeepOnly(ulong current) => Close(quorum => quorum != current && RingChannels.SameChannel(quorum, current));

    private void Close(Func<ulong, bool> quorums)
    {
        foreach ((ulong Quorum, int Sender) key in _incoming.Keys.Where(k => quorums(k.Quorum)))
        {
            if (_incoming.TryRemove(key, out TaskCompletionSource<Socket>? pending) && pending.Task.IsCompletedSuccessfully)
            {
                pending.Task.Result.Dispose();
            }
        }

        foreach ((ulong Quorum, int Receiver) key in _outgoing.Keys.Where(k => quorums(k.Quorum)))
        {
            if (_outgoing.TryRemove(key, out Task<Socket>? connection) && connection.IsCompletedSuccessfully)
            {
                connection.Result.Dispose();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        Close(_ => true);
        _stop.Dispose();
    }

    private async Task<Socket> ConnectAsync(ulong quorum, int sender, string host, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken);
            byte[] token = Encoding.UTF8.GetBytes(_token);
            byte[] hello = new byte[4 + 8 + 4 + 2 + token.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(hello, Magic);
            BinaryPrimitives.WriteUInt64LittleEndian(hello.AsSpan(4), quorum);
            BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(12), sender);
            BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(16), (ushort)token.Length);
            token.CopyTo(hello, 18);
            await socket.SendAsync(hello, cancellationToken);
            return socket;
        }
        catch
        {
            // The failed task stays cached for this quorum: the round fails, and the next quorum connects afresh.
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => HandshakeAsync(socket));
        }
    }

    private async Task HandshakeAsync(Socket socket)
    {
        try
        {
            socket.NoDelay = true;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            byte[] header = new byte[18];
            await ReceiveExactlyAsync(socket, header, timeout.Token);
            byte[] token = new byte[BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(16))];
            await ReceiveExactlyAsync(socket, token, timeout.Token);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic || !JobToken.Matches(Encoding.UTF8.GetString(token), _token))
            {
                socket.Dispose();
                return;
            }

            ulong quorum = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(4));
            int sender = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12));
            TaskCompletionSource<Socket> slot = _incoming.GetOrAdd((quorum, sender), _ => new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously));
            if (!slot.TrySetResult(socket))
            {
                socket.Dispose();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
        {
            socket.Dispose();
        }
    }

    internal static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            int read = await socket.ReceiveAsync(buffer, cancellationToken);
            if (read == 0)
            {
                throw new IOException("The peer closed the data connection.");
            }

            buffer = buffer[read..];
        }
    }
}
