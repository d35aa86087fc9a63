using System.Net;
using System.Net.Sockets;

namespace DesLoc.Operator.Tests.Kubernetes;

/// <summary>API servers that cannot be reached, as in an outage: connections refused, or accepted and reset at once.</summary>
internal sealed class DeadServer : IDisposable
{
    private readonly TcpListener? _listener;
    private int _accepted;

    private DeadServer(string url, TcpListener? listener)
    {
        Url = url;
        _listener = listener;
    }

    public string Url { get; }

    /// <summary>Connections accepted (and reset); always 0 for a refusing server.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>A port that was bound and closed again: every connection is refused.</summary>
    public static DeadServer Refusing()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new DeadServer($"http://127.0.0.1:{port}", null);
    }

    /// <summary>A listener that accepts each connection and resets it (linger 0) before reading a byte.</summary>
    public static DeadServer Resetting()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = new DeadServer($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}", listener);
        _ = server.ResetAllAsync();
        return server;
    }

    public static DeadServer Of(string kind) => kind == "refused" ? Refusing() : Resetting();

    public void Dispose() => _listener?.Stop();

    private async Task ResetAllAsync()
    {
        try
        {
            while (true)
            {
                using Socket socket = await _listener!.AcceptSocketAsync();
                Interlocked.Increment(ref _accepted);
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }
}
