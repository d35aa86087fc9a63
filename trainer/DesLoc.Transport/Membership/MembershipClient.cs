using DesLoc.Transport.Grpc;
using DesLoc.Transport.Protocol;
using Grpc.Core;

namespace DesLoc.Transport.Membership;

/// <summary>
/// A replica's side of membership: arrive at a sync point and learn the quorum; vote on the round. Rank 0 calls
/// its own coordinator directly; the others call it over gRPC and, while it is down (restarting), keep retrying
/// with backoff: nobody proceeds without a quorum.
/// </summary>
public sealed class MembershipClient(int rank, PeerDirectory peers, QuorumCoordinator? local)
{
    private const int CoordinatorRank = 0;

    public async Task<QuorumReply> ArriveAsync(QuorumRequest request, CancellationToken cancellationToken)
    {
        if (local is not null)
        {
            return await local.ArriveAsync(request, cancellationToken);
        }

        TimeSpan backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await peers.Coordinator(CoordinatorRank).QuorumAsync(request, JobToken.Headers(peers.Token), cancellationToken: cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Cancelled or StatusCode.Internal or StatusCode.Unknown
                                         && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(backoff, cancellationToken);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 2000));
            }
        }
    }

    /// <summary>True when every member of the quorum completed the round; false (roll back) otherwise or when the vote cannot be cast.</summary>
    public async Task<bool> CommitAsync(ulong quorumId, bool ok, CancellationToken cancellationToken)
    {
        if (local is not null)
        {
            return await local.CommitAsync(quorumId, rank, ok, cancellationToken);
        }

        // A vote is idempotent (ballots are kept by rank), so a lost call is retried: treating it as an abort would
        // roll this replica back alone while the others keep the committed round. A restarted coordinator does not
        // know the quorum and answers false, which is right: its members re-form and redo the round.
        var request = new CommitRequest { QuorumId = quorumId, Rank = rank, Ok = ok };
        TimeSpan backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return (await peers.Coordinator(CoordinatorRank).CommitAsync(request, JobToken.Headers(peers.Token), cancellationToken: cancellationToken)).Committed;
            }
            catch (RpcException e) when (e.StatusCode is not StatusCode.Unauthenticated && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(backoff, cancellationToken);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 2000));
            }
        }
    }

    /// <summary>Liveness of a peer, as the coordinator probes it: a short deadline, any failure means dead.</summary>
    public static async Task<bool> PingAsync(PeerDirectory peers, int peer, CancellationToken cancellationToken)
    {
        try
        {
            await peers.Replica(peer).PingAsync(new PingRequest(), JobToken.Headers(peers.Token),
                deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken);
            return true;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    /// <summary>Streams a donor's state (heal).</summary>
    public async Task<byte[]> FetchStateAsync(int donor, ulong quorumId, CancellationToken cancellationToken)
    {
        using var call = peers.Replica(donor).FetchState(new FetchStateRequest { QuorumId = quorumId }, JobToken.Headers(peers.Token), cancellationToken: cancellationToken);
        using var buffer = new MemoryStream();
        await foreach (StateChunk chunk in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            chunk.Data.WriteTo(buffer);
        }

        return buffer.ToArray();
    }
}
