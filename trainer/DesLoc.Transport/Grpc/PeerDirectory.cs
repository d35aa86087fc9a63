using System.Net;
using DesLoc.Transport.Protocol;
using Grpc.Net.Client;

namespace DesLoc.Transport.Grpc;

/// <summary>One gRPC channel per peer (host:port from DESLOC_PEERS), created on first use, cleartext HTTP/2.</summary>
public sealed class PeerDirectory : IDisposable
{
    /// <summary>Above the largest segment or state chunk we send; set explicitly on both ends (gRPC's default is 4 MiB).</summary>
    public const int MaxMessageBytes = 64 * 1024 * 1024;

    private readonly Lazy<GrpcChannel>[] _channels;

    public PeerDirectory(IReadOnlyList<string> addresses, string token)
    {
        Token = token;
        _channels = addresses.Select(address => new Lazy<GrpcChannel>(() => Open(address))).ToArray();
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

    private static GrpcChannel Open(string address) =>
        GrpcChannel.ForAddress(address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address, new GrpcChannelOptions
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
            },
            HttpVersion = HttpVersion.Version20,
        });
}
