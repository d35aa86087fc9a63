using System.Net;
using DesLoc.Contract.Wire;
using DesLoc.Transport.Protocol;
using Grpc.Net.Client;

namespace DesLoc.Transport.Grpc;

/// <summary>
/// One gRPC channel per peer (host:port from DESLOC_PEERS), created on first use: HTTP/2 over mutual TLS with the job's
/// certificate, the peer checked against the job's CA under the name dialed (cleartext when <c>tls</c> is null).
/// </summary>
public sealed class PeerDirectory : IDisposable
{
    /// <summary>Above the largest segment or state chunk we send; set explicitly on both ends (gRPC's default is 4 MiB).</summary>
    public const int MaxMessageBytes = 64 * 1024 * 1024;

    private readonly Lazy<GrpcChannel>[] _channels;

    public PeerDirectory(IReadOnlyList<string> addresses, string token, JobTls? tls)
    {
        Token = token;
        _channels = addresses.Select(address => new Lazy<GrpcChannel>(() => Open(address, tls))).ToArray();
    }

    public string Token { get; }

    public Replica.ReplicaClient Replica(int rank) => new(_channels[rank].Value);

    public Coordinator.CoordinatorClient Coordinator(int rank) => new(_channels[rank].Value);

    public void Dispose()
    {
        foreach (Lazy<GrpcChannel> channel in _channels.Where(c => c.IsValueCreated))
        {
            channel.Value.Dispose();
        }
    }

    /// <summary>The URI of a peer's gRPC endpoint given as host:port (or already a URI): https with TLS, http without.</summary>
    public static string Uri(string address, bool tls) =>
        address.Contains("://", StringComparison.Ordinal) ? address : (tls ? "https://" : "http://") + address;

    private static GrpcChannel Open(string address, JobTls? tls) =>
        GrpcChannel.ForAddress(Uri(address, tls is not null), new GrpcChannelOptions
        {
            MaxSendMessageSize = MaxMessageBytes,
            MaxReceiveMessageSize = MaxMessageBytes,
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                InitialHttp2StreamWindowSize = Http2Tuning.StreamWindowBytes,
                SslOptions = tls?.ClientOptions() ?? new System.Net.Security.SslClientAuthenticationOptions(),
            },
            HttpVersion = HttpVersion.Version20,
        });
}
