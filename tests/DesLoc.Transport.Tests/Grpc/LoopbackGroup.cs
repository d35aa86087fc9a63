using DesLoc.Contract.Wire;
using DesLoc.Transport.Collectives;
using DesLoc.Transport.Grpc;
using DesLoc.Transport.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace DesLoc.Transport.Tests.Grpc;

/// <summary>
/// N replica endpoints (Kestrel, HTTP/2, 127.0.0.1, ephemeral ports), their socket data planes and their ring
/// collectives over the chosen link ("grpc" or "socket", with the given connections per peer); mutual TLS with one job's certificate, as a job runs by
/// default, or cleartext when asked.
/// </summary>
internal sealed class LoopbackGroup : IAsyncDisposable
{
    public const string Token = "job-secret";
    private readonly List<WebApplication> _servers = [];
    private readonly List<SocketDataPlane> _planes = [];

    private LoopbackGroup()
    {
    }

    public List<string> Addresses { get; } = [];

    public List<RingCollective> Collectives { get; } = [];

    public List<PeerDirectory> Peers { get; } = [];

    /// <summary>The job's TLS material every member uses; null in a cleartext group.</summary>
    public JobTls? Tls { get; private set; }

    public List<SocketDataPlane> Planes => _planes;

    /// <summary>A new job's TLS material for loopback, as `run` issues it.</summary>
    public static JobTlsFiles IssueLoopback(string job = "loopback") => JobTlsFiles.Issue(job, ["localhost", "127.0.0.1"], DateTimeOffset.UtcNow);

    public static async Task<LoopbackGroup> StartAsync(int members, string link = "grpc", int segmentBytes = 64 << 10, TimeSpan? timeout = null, WireCompression? compression = null, bool tls = true, int streams = 1)
    {
        var group = new LoopbackGroup { Tls = tls ? JobTls.From(IssueLoopback()) : null };
        var mailboxes = new List<Mailbox>();
        for (int rank = 0; rank < members; rank++)
        {
            var mailbox = new Mailbox();
            mailboxes.Add(mailbox);
            WebApplication server = await StartServerAsync(mailbox, new StubEndpoint(rank), group.Tls);
            group._servers.Add(server);
            group.Addresses.Add(AddressOf(server));
        }

        for (int rank = 0; rank < members; rank++)
        {
            group._planes.Add(new SocketDataPlane(System.Net.IPAddress.Loopback, 0, Token, group.Tls, streams));
        }

        (string, int)[] dataEndpoints = [.. group._planes.Select(p => ("127.0.0.1", p.Port))];
        for (int rank = 0; rank < members; rank++)
        {
            var peers = new PeerDirectory(group.Addresses, Token, group.Tls);
            group.Peers.Add(peers);
            IRingLink ringLink = link == "socket"
                ? new SocketRingLink(rank, dataEndpoints, group._planes[rank])
                : new GrpcRingLink(rank, peers, mailboxes[rank], segmentBytes);
            group.Collectives.Add(new RingCollective(rank, members, ringLink, timeout ?? TimeSpan.FromSeconds(10), compression));
        }

        return group;
    }

    public async Task StopAsync(int rank)
    {
        await _servers[rank].StopAsync();
        await _planes[rank].DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (PeerDirectory peers in Peers)
        {
            peers.Dispose();
        }

        foreach (WebApplication server in _servers)
        {
            await server.DisposeAsync();
        }

        foreach (SocketDataPlane plane in _planes)
        {
            await plane.DisposeAsync();
        }

        Tls?.Dispose();
    }

    /// <summary>The URI a started server listens at (https with TLS).</summary>
    public static string AddressOf(WebApplication server) =>
        server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public static async Task<WebApplication> StartServerAsync(Mailbox mailbox, IReplicaEndpoint endpoint, JobTls? tls)
    {
        WebApplication app = ReplicaServer.CreateBuilder(System.Net.IPAddress.Loopback, 0, Token, tls, mailbox, endpoint).Build();
        ReplicaServer.MapServices(app);
        await app.StartAsync();
        return app;
    }

    public sealed class StubEndpoint(int rank) : IReplicaEndpoint
    {
        public int Rank => rank;

        public long Step => 7;

        public Task<byte[]> SnapshotAsync(CancellationToken cancellationToken) => Task.FromResult(new byte[] { 1, 2, 3 });

        public StatusReply Status() => new() { Rank = rank, Step = 7 };

        public SetSyncPeriodsReply SetSyncPeriods(SetSyncPeriodsRequest request) => new() { Accepted = false, Message = "stub" };
    }
}
