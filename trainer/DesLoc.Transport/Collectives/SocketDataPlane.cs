using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using DesLoc.Contract.Wire;
using DesLoc.Transport.Grpc;
using DesLoc.Transport.Membership;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// TCP connections for bulk ring traffic, beside the gRPC control plane. Each replica listens on its data port (by
/// convention the gRPC port + 1). A connection belongs to one quorum and one ordered pair of ranks. With the job's
/// <see cref="JobTls"/> it is mutual TLS first (both ends present the job certificate and accept only the job's CA, so
/// a peer of another job is dropped in the TLS handshake), then a handshake carrying the job token, checked like the
/// gRPC header, so an unauthenticated peer is dropped before it can send a byte of data. A new quorum means new
/// connections, so nothing from an abandoned round can be read by the next one. A sender opens
/// <see cref="Streams"/> connections to each receiver (TLS ciphers a connection on one core, and one TCP window may
/// not fill a long fat link); the handshake numbers them, so the receiver hands them out in order, all at once.
/// </summary>
public sealed class SocketDataPlane : IAsyncDisposable
{
    private const uint Magic = 0x4445534C; // "DESL"
    private const int HelloBytes = 4 + 8 + 4 + 1 + 1 + 2; // magic, quorum, sender, stream index, stream count, token length
    // Under TLS, records reach the socket through buffers this big (CoalescingStream), so a syscall moves many, not one.
    private const int CipherBufferBytes = 256 << 10;
    private static readonly TimeSpan s_handshakeTimeout = TimeSpan.FromSeconds(10);
    private readonly string _token;
    private readonly JobTls? _tls;
    private readonly TcpListener _listener;
    private readonly int? _socketBufferBytes;
    private readonly ConcurrentDictionary<(ulong Quorum, int Sender), Arrivals> _incoming = new();
    private readonly ConcurrentDictionary<(ulong Quorum, int Receiver), Task<Stream[]>> _outgoing = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _disposed;

    /// <summary>
    /// Listens on <paramref name="port"/>; opens <paramref name="streams"/> connections to each receiver, with socket
    /// buffers of <paramref name="socketBufferBytes"/> (null: the kernel's autotuning).
    /// </summary>
    public SocketDataPlane(IPAddress address, int port, string token, JobTls? tls, int streams = 1, int? socketBufferBytes = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(streams, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(streams, byte.MaxValue);
        _token = token;
        _tls = tls;
        Streams = streams;
        _socketBufferBytes = socketBufferBytes;
        _listener = new TcpListener(address, port);
        // Accepted sockets inherit the listener's buffers, and the receive window's scale is fixed in the SYN.
        SizeBuffers(_listener.Server);
        _listener.Start();
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections this replica opens to each receiver.</summary>
    public int Streams { get; }

    /// <summary>The data port of a peer whose gRPC endpoint is <paramref name="grpcAddress"/> (host:port).</summary>
    public static (string Host, int Port) DataEndpointOf(string grpcAddress)
    {
        string hostPort = grpcAddress.Contains("://", StringComparison.Ordinal) ? new Uri(grpcAddress).Authority : grpcAddress;
        int colon = hostPort.LastIndexOf(':');
        return (hostPort[..colon], int.Parse(hostPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture) + 1);
    }

    /// <summary>The connections from <paramref name="sender"/> to <paramref name="receiver"/>, in order, for one quorum (opened once, reused by its operations).</summary>
    public Task<Stream[]> OutgoingAsync(ulong quorum, int sender, int receiver, string host, int port, CancellationToken cancellationToken) =>
        _outgoing.GetOrAdd((quorum, receiver), _ => ConnectAllAsync(quorum, sender, host, port, cancellationToken));

    /// <summary>The connections <paramref name="sender"/> opened to this replica for one quorum, in order, once all have arrived.</summary>
    public Task<Stream[]> IncomingAsync(ulong quorum, int sender, CancellationToken cancellationToken) =>
        _incoming.GetOrAdd((quorum, sender), _ => new Arrivals()).All.WaitAsync(cancellationToken);

    /// <summary>Closes the connections of every quorum of <paramref name="current"/>'s ring channel but <paramref name="current"/>.</summary>
    public void KeepOnly(ulong current) => Close(quorum => quorum != current && RingChannels.SameChannel(quorum, current));

    private void Close(Func<ulong, bool> quorums)
    {
        foreach ((ulong Quorum, int Sender) key in _incoming.Keys.Where(k => quorums(k.Quorum)))
        {
            if (_incoming.TryRemove(key, out Arrivals? arrivals))
            {
                arrivals.Close();
            }
        }

        foreach ((ulong Quorum, int Receiver) key in _outgoing.Keys.Where(k => quorums(k.Quorum)))
        {
            if (_outgoing.TryRemove(key, out Task<Stream[]>? connections) && connections.IsCompletedSuccessfully)
            {
                foreach (Stream connection in connections.Result)
                {
                    connection.Dispose();
                }
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

    private async Task<Stream[]> ConnectAllAsync(ulong quorum, int sender, string host, int port, CancellationToken cancellationToken)
    {
        Task<Stream>[] connecting = [.. Enumerable.Range(0, Streams).Select(index => ConnectAsync(quorum, sender, index, host, port, cancellationToken))];
        try
        {
            return await Task.WhenAll(connecting);
        }
        catch
        {
            foreach (Task<Stream> connection in connecting.Where(c => c.IsCompletedSuccessfully))
            {
                await connection.Result.DisposeAsync();
            }

            throw;
        }
    }

    private async Task<Stream> ConnectAsync(ulong quorum, int sender, int index, string host, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        SizeBuffers(socket);
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken);
            stream = await SecureAsync(new NetworkStream(socket, ownsSocket: true), host, cancellationToken);
            byte[] token = Encoding.UTF8.GetBytes(_token);
            byte[] hello = new byte[HelloBytes + token.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(hello, Magic);
            BinaryPrimitives.WriteUInt64LittleEndian(hello.AsSpan(4), quorum);
            BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(12), sender);
            hello[16] = (byte)index;
            hello[17] = (byte)Streams;
            BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(18), (ushort)token.Length);
            token.CopyTo(hello, HelloBytes);
            await stream.WriteAsync(hello, cancellationToken);
            await stream.FlushAsync(cancellationToken);
            return stream;
        }
        catch
        {
            // The failed task stays cached for this quorum: the round fails, and the next quorum connects afresh.
            if (stream is not null)
            {
                await stream.DisposeAsync();
            }

            socket.Dispose();
            throw;
        }
    }

    /// <summary>The client's side of the TLS handshake with the job's certificate, the server checked under <paramref name="host"/>; the stream as it is without TLS.</summary>
    private async Task<Stream> SecureAsync(NetworkStream network, string host, CancellationToken cancellationToken)
    {
        if (_tls is null)
        {
            return network;
        }

        var ssl = new SslStream(new CoalescingStream(network, CipherBufferBytes), leaveInnerStreamOpen: false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_handshakeTimeout);
            await ssl.AuthenticateAsClientAsync(_tls.ClientOptions(host), timeout.Token);
            return ssl;
        }
        catch
        {
            await ssl.DisposeAsync();
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

    private void SizeBuffers(Socket socket)
    {
        if (_socketBufferBytes is { } bytes)
        {
            socket.SendBufferSize = bytes;
            socket.ReceiveBufferSize = bytes;
        }
    }

    private async Task HandshakeAsync(Socket socket)
    {
        socket.NoDelay = true;
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(s_handshakeTimeout);
            if (_tls is not null)
            {
                var ssl = new SslStream(new CoalescingStream(stream, CipherBufferBytes), leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsServerAsync(_tls.ServerOptions(), timeout.Token);
            }

            byte[] header = new byte[HelloBytes];
            await stream.ReadExactlyAsync(header, timeout.Token);
            byte[] token = new byte[BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(18))];
            await stream.ReadExactlyAsync(token, timeout.Token);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic || !JobToken.Matches(Encoding.UTF8.GetString(token), _token))
            {
                await stream.DisposeAsync();
                return;
            }

            ulong quorum = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(4));
            int sender = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12));
            Arrivals arrivals = _incoming.GetOrAdd((quorum, sender), _ => new Arrivals());
            if (!arrivals.Add(header[16], header[17], stream))
            {
                await stream.DisposeAsync();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or System.Security.Authentication.AuthenticationException)
        {
            // A peer without the job's certificate ends here, in the TLS handshake.
            await stream.DisposeAsync();
        }
    }

    /// <summary>The connections one sender opened for one quorum, as they arrive; complete when every one has.</summary>
    private sealed class Arrivals
    {
        private readonly Lock _gate = new();
        private readonly TaskCompletionSource<Stream[]> _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Stream?[]? _streams;
        private int _arrived;
        private bool _closed;

        public Task<Stream[]> All => _all.Task;

        /// <summary>False, keeping nothing, for a connection that is closed, repeated or disagrees with its siblings' count.</summary>
        public bool Add(int index, int count, Stream stream)
        {
            lock (_gate)
            {
                if (_closed || count == 0 || (_streams ??= new Stream?[count]).Length != count || index >= count || _streams[index] is not null)
                {
                    return false;
                }

                _streams[index] = stream;
                if (++_arrived == count)
                {
                    _all.TrySetResult([.. _streams.Select(s => s!)]);
                }

                return true;
            }
        }

        public void Close()
        {
            lock (_gate)
            {
                _closed = true;
                foreach (Stream? stream in _streams ?? [])
                {
                    stream?.Dispose();
                }
            }
        }
    }
}
