using DesLoc.Transport.Protocol;
using Grpc.Core;

namespace DesLoc.Transport.Membership;

/// <summary>The coordinator's gRPC surface (served by rank 0 only).</summary>
public sealed class CoordinatorService(QuorumCoordinator coordinator) : Coordinator.CoordinatorBase
{
    public override Task<QuorumReply> Quorum(QuorumRequest request, ServerCallContext context) =>
        coordinator.ArriveAsync(request, context.CancellationToken);

    public override async Task<CommitReply> Commit(CommitRequest request, ServerCallContext context) =>
        new() { Committed = await coordinator.CommitAsync(request.QuorumId, request.Rank, request.Ok, context.CancellationToken) };
}
