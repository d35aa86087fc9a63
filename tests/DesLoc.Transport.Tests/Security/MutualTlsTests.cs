using System.Net;
using DesLoc.Contract.Wire;
using DesLoc.Transport.Collectives;
using DesLoc.Transport.Grpc;
using DesLoc.Transport.Membership;
using DesLoc.Transport.Protocol;
using DesLoc.Transport.Tests.Grpc;
using Grpc.Core;
using Grpc.Net.Client;

namespace DesLoc.Transport.Tests.Security;

/// <summary>
/// Mutual TLS with the job's own CA on both planes: members of one job complete rounds; a peer with another job's
/// certificate (even with the right token), or with none, neither joins nor reads, in either direction.
/// </summary>
public sealed class MutualTlsTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("grpc", true)]
    [InlineData("socket", true)]
    [InlineData("grpc", false)]
    [InlineData("socket", false)]
    public async Task AllReduce_BetweenTwoPeersOfTheJob_Averages(string link, bool tls)
    {
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(2, link, tls: tls);
        float[] a = [1f, 10f];
        float[] b = [3f, 30f];

        await Task.WhenAll(group.Collectives[0].AllReduceMeanAsync(a, default).AsTask(), group.Collectives[1].AllReduceMeanAsync(b, default).AsTask()).WaitAsync(s_timeout);

        Assert.Equal([2f, 20f], a);
        Assert.Equal([2f, 20f], b);
        Assert.Equal(tls, group.Addresses.All(address => address.StartsWith("https://", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Call_WithAnotherJobsCertificate_IsRefusedByTheServer()
    {
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(1);
        JobTlsFiles other = LoopbackGroup.IssueLoopback("other");
        // Trusts this job's CA (so only the server can be the one refusing) but presents the other job's certificate.
        using JobTls intruder = JobTls.From(new JobTlsFiles(CaOf(group), other.Certificate, other.PrivateKey));
        using var peers = new PeerDirectory(group.Addresses, LoopbackGroup.Token, intruder);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await peers.Replica(0).GetStatusAsync(new StatusRequest(), JobToken.Headers(LoopbackGroup.Token)));

        RefusedInTheHandshake(error);
        Assert.False(await MembershipClient.PingAsync(peers, 0, default));
    }

    [Fact]
    public async Task Call_WithoutAClientCertificate_IsRefused()
    {
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(1);
        JobTls tls = group.Tls!;
        using var channel = GrpcChannel.ForAddress(group.Addresses[0], new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                SslOptions = new System.Net.Security.SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, certificate, _, errors) => tls.IsJobPeer(certificate, errors, client: false),
                },
            },
        });

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Replica.ReplicaClient(channel).GetStatusAsync(new StatusRequest(), JobToken.Headers(LoopbackGroup.Token)));

        RefusedInTheHandshake(error);
    }

    [Fact]
    public async Task Client_RefusesAServerOfAnotherJob_BeforeSendingAnything()
    {
        // The server is a member of another job: it would accept this job's client (it trusts both), but the client
        // trusts its own CA only and must not hand the token, or a round's data, to it.
        JobTlsFiles job = LoopbackGroup.IssueLoopback("job");
        JobTlsFiles other = LoopbackGroup.IssueLoopback("other");
        using JobTls server = JobTls.From(new JobTlsFiles(job.CaCertificate, other.Certificate, other.PrivateKey));
        var endpoint = new CountingEndpoint();
        await using Microsoft.AspNetCore.Builder.WebApplication app = await LoopbackGroup.StartServerAsync(new Mailbox(), endpoint, server);
        string address = LoopbackGroup.AddressOf(app);
        using JobTls client = JobTls.From(job);
        using var peers = new PeerDirectory([address], LoopbackGroup.Token, client);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await peers.Replica(0).GetStatusAsync(new StatusRequest(), JobToken.Headers(LoopbackGroup.Token)));

        RefusedByTheClient(error);
        Assert.Equal(0, endpoint.Calls);
    }

    [Fact]
    public async Task Client_RefusesAServerWhoseCertificateLacksTheNameDialed()
    {
        JobTlsFiles elsewhere = JobTlsFiles.Issue("elsewhere", ["*.train.ml.svc"], DateTimeOffset.UtcNow);
        using JobTls tls = JobTls.From(elsewhere);
        await using Microsoft.AspNetCore.Builder.WebApplication app = await LoopbackGroup.StartServerAsync(new Mailbox(), new LoopbackGroup.StubEndpoint(0), tls);
        using var peers = new PeerDirectory([LoopbackGroup.AddressOf(app)], LoopbackGroup.Token, tls);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await peers.Replica(0).GetStatusAsync(new StatusRequest(), JobToken.Headers(LoopbackGroup.Token)));

        RefusedByTheClient(error);
    }

    [Fact]
    public async Task Call_WithTheJobCertificateAndToken_IsServed()
    {
        await using LoopbackGroup group = await LoopbackGroup.StartAsync(1);

        StatusReply status = await group.Peers[0].Replica(0).GetStatusAsync(new StatusRequest(), JobToken.Headers(LoopbackGroup.Token));

        Assert.Equal(7, status.Step);
    }

    [Fact]
    public async Task DataConnection_WithAnotherJobsCertificateAndTheRightToken_IsDroppedInTheHandshake()
    {
        JobTlsFiles job = LoopbackGroup.IssueLoopback("job");
        JobTlsFiles other = LoopbackGroup.IssueLoopback("other");
        using JobTls member = JobTls.From(job);
        using JobTls intruder = JobTls.From(new JobTlsFiles(job.CaCertificate, other.Certificate, other.PrivateKey));
        await using var plane = new SocketDataPlane(IPAddress.Loopback, 0, LoopbackGroup.Token, member);
        await using var stranger = new SocketDataPlane(IPAddress.Loopback, 0, LoopbackGroup.Token, intruder);
        Task<Stream[]> accepted = plane.IncomingAsync(1, 0, default);

        Exception? refused = await Record.ExceptionAsync(async () =>
        {
            // TLS 1.3 may let the client finish before the server's verdict arrives: then the first read sees the close.
            await using Stream connection = (await stranger.OutgoingAsync(1, 0, 1, "127.0.0.1", plane.Port, default).WaitAsync(s_timeout)).Single();
            Assert.Equal(0, await connection.ReadAsync(new byte[1]).AsTask().WaitAsync(s_timeout));
        });

        Assert.True(refused is null or IOException or System.Security.Authentication.AuthenticationException, refused?.ToString());
        await Task.Delay(200);
        Assert.False(accepted.IsCompleted);
    }

    [Fact]
    public async Task DataConnection_InCleartext_ToATlsPlane_IsDropped()
    {
        using JobTls member = JobTls.From(LoopbackGroup.IssueLoopback());
        await using var plane = new SocketDataPlane(IPAddress.Loopback, 0, LoopbackGroup.Token, member);
        await using var cleartext = new SocketDataPlane(IPAddress.Loopback, 0, LoopbackGroup.Token, null);
        Task<Stream[]> accepted = plane.IncomingAsync(1, 0, default);

        await using Stream connection = (await cleartext.OutgoingAsync(1, 0, 1, "127.0.0.1", plane.Port, default)).Single();
        int read = await connection.ReadAsync(new byte[1]).AsTask().WaitAsync(s_timeout);

        Assert.Equal(0, read);
        Assert.False(accepted.IsCompleted);
    }

    [Fact]
    public async Task DataConnection_ToAPlaneOfAnotherJob_IsRefusedByTheClient()
    {
        // The listener is another job's and would take this job's client: the client must not send it a byte.
        JobTlsFiles job = LoopbackGroup.IssueLoopback("job");
        JobTlsFiles other = LoopbackGroup.IssueLoopback("other");
        using JobTls member = JobTls.From(job);
        using JobTls stranger = JobTls.From(new JobTlsFiles(job.CaCertificate, other.Certificate, other.PrivateKey));
        await using var listener = new SocketDataPlane(IPAddress.Loopback, 0, LoopbackGroup.Token, stranger);
        await using var plane = new SocketDataPlane(IPAddress.Loopback, 0, LoopbackGroup.Token, member);
        Task<Stream[]> accepted = listener.IncomingAsync(1, 0, default);

        await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(() => plane.OutgoingAsync(1, 0, 1, "127.0.0.1", listener.Port, default).WaitAsync(s_timeout));

        await Task.Delay(200);
        Assert.False(accepted.IsCompleted);
    }

    [Fact]
    public void Issue_GivesEveryJobItsOwnCa_AndACertificateOnlyItsCaAccepts()
    {
        using JobTls a = JobTls.From(JobTlsFiles.Issue("a", ["*.a.ml.svc", "127.0.0.1"], DateTimeOffset.UtcNow));
        using JobTls b = JobTls.From(JobTlsFiles.Issue("b", ["*.b.ml.svc", "127.0.0.1"], DateTimeOffset.UtcNow));

        Assert.True(a.IsJobPeer(a.Certificate, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors, client: true));
        Assert.True(a.IsJobPeer(a.Certificate, System.Net.Security.SslPolicyErrors.None, client: false));
        Assert.False(a.IsJobPeer(b.Certificate, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors, client: true));
        Assert.False(a.IsJobPeer(a.Certificate, System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch, client: false));
        Assert.False(a.IsJobPeer(null, System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable, client: true));
        Assert.NotEqual(a.Authority.Thumbprint, b.Authority.Thumbprint);
        Assert.True(a.Certificate.HasPrivateKey);
    }

    /// <summary>The connection ended in the TLS handshake: the server dropped it (Unavailable) or sent an alert the client reports.</summary>
    private static void RefusedInTheHandshake(RpcException error)
    {
        Assert.True(error.StatusCode is StatusCode.Unavailable or StatusCode.Internal, error.ToString());
        Assert.True(Chain(error.Status.DebugException).Any(e => e is System.Security.Authentication.AuthenticationException
            || e.Message.Contains("HTTP/2 handshake", StringComparison.Ordinal) || e is ObjectDisposedException { ObjectName: "System.Net.Security.SslStream" }), error.ToString());
    }

    /// <summary>This end refused the server's certificate: nothing was sent over the connection.</summary>
    private static void RefusedByTheClient(RpcException error) =>
        Assert.Contains(Chain(error.Status.DebugException), e => e is System.Security.Authentication.AuthenticationException
            && e.Message.Contains("RemoteCertificateValidationCallback", StringComparison.Ordinal));

    private static IEnumerable<Exception> Chain(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
        {
            yield return error;
        }
    }

    private static string CaOf(LoopbackGroup group) => group.Tls!.Authority.ExportCertificatePem();

    private sealed class CountingEndpoint : IReplicaEndpoint
    {
        private int _calls;

        public int Calls => _calls;

        public int Rank => 0;

        public long Step => 0;

        public Task<byte[]> SnapshotAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return Task.FromResult(Array.Empty<byte>());
        }

        public StatusReply Status()
        {
            Interlocked.Increment(ref _calls);
            return new StatusReply();
        }

        public SetSyncPeriodsReply SetSyncPeriods(SetSyncPeriodsRequest request)
        {
            Interlocked.Increment(ref _calls);
            return new SetSyncPeriodsReply();
        }
    }
}
