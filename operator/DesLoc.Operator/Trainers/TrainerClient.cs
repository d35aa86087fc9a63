using DesLoc.Transport.Protocol;
using Grpc.Core;
using Grpc.Net.Client;

namespace DesLoc.Operator.Trainers;

/// <summary>The operator's gRPC client of one trainer replica: status, and sync periods (rank 0). Every call carries the job token.</summary>
internal sealed class TrainerClient : IDisposable
{
    private const string TokenHeader = "x-desloc-token";
    private readonly GrpcChannel _channel;
    private readonly Replica.ReplicaClient _client;
    private readonly Metadata _headers;

    public TrainerClient(string address, string token)
    {
        _channel = GrpcChannel.ForAddress(address.Contains("://", StringComparison.Ordinal) ? address : $"http://{address}");
        _client = new Replica.ReplicaClient(_channel);
        _headers = new Metadata { { TokenHeader, token } };
    }

    public async Task<StatusReply> GetStatusAsync(TimeSpan timeout, CancellationToken cancellation) =>
        await _client.GetStatusAsync(new StatusRequest(), _headers, DateTime.UtcNow + timeout, cancellation);

    public async Task<SetSyncPeriodsReply> SetSyncPeriodsAsync(IReadOnlyDictionary<string, int> periods, long switchStep, TimeSpan timeout, CancellationToken cancellation)
    {
        var request = new SetSyncPeriodsRequest { SwitchStep = switchStep };
        request.Periods.Add(periods.ToDictionary());
        return await _client.SetSyncPeriodsAsync(request, _headers, DateTime.UtcNow + timeout, cancellation);
    }

    public void Dispose() => _channel.Dispose();
}
