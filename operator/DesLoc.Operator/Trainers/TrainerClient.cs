using System.Net;
using DesLoc.Contract.Wire;
using DesLoc.Transport.Protocol;
using Grpc.Core;
using Grpc.Net.Client;

namespace DesLoc.Operator.Trainers;

/// <summary>
/// The operator's gRPC client of one trainer replica: status, and sync periods (rank 0). Every call carries the job
/// token, over mutual TLS with the job's certificate when the job has TLS material (the trainer refuses anyone else).
/// </summary>
internal sealed class TrainerClient : IDisposable
{
    private readonly JobTls? _tls;
    private readonly GrpcChannel _channel;
    private readonly Replica.ReplicaClient _client;
    private readonly Metadata _headers;

    public TrainerClient(string address, JobCredentials credentials)
    {
        _tls = credentials.Tls is { } files ? JobTls.From(files) : null;
        string uri = address.Contains("://", StringComparison.Ordinal) ? address : (_tls is null ? "http://" : "https://") + address;
        _channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(5),
                SslOptions = _tls?.ClientOptions() ?? new System.Net.Security.SslClientAuthenticationOptions(),
            },
            HttpVersion = HttpVersion.Version20,
        });
        _client = new Replica.ReplicaClient(_channel);
        _headers = new Metadata { { TrainerEnvironment.TokenHeader, credentials.Token } };
    }

    public async Task<StatusReply> GetStatusAsync(TimeSpan timeout, CancellationToken cancellation) =>
        await _client.GetStatusAsync(new StatusRequest(), _headers, DateTime.UtcNow + timeout, cancellation);

    public async Task<SetSyncPeriodsReply> SetSyncPeriodsAsync(IReadOnlyDictionary<string, int> periods, long switchStep, TimeSpan timeout, CancellationToken cancellation)
    {
        var request = new SetSyncPeriodsRequest { SwitchStep = switchStep };
        request.Periods.Add(periods.ToDictionary());
        return await _client.SetSyncPeriodsAsync(request, _headers, DateTime.UtcNow + timeout, cancellation);
    }

    public void Dispose()
    {
        _channel.Dispose();
        _tls?.Dispose();
    }
}
