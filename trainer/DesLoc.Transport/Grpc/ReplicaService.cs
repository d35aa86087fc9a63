using DesLoc.Transport.Protocol;
using Google.Protobuf;
using Grpc.Core;

namespace DesLoc.Transport.Grpc;

/// <summary>The replica's gRPC surface: ring segments in, liveness, heal state out, status.</summary>
public sealed class ReplicaService(Mailbox mailbox, IReplicaEndpoint endpoint) : Replica.ReplicaBase
{
    private const int StateChunkBytes = 4 << 20;

    public override async Task<PushAck> Push(IAsyncStreamReader<Segment> requestStream, ServerCallContext context)
    {
        await foreach (Segment segment in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await mailbox.DeliverAsync(segment, context.CancellationToken);
        }

        return new PushAck();
    }

    public override Task<PingReply> Ping(PingRequest request, ServerCallContext context) =>
        Task.FromResult(new PingReply { Rank = endpoint.Rank, Step = endpoint.Step });

    public override async Task FetchState(FetchStateRequest request, IServerStreamWriter<StateChunk> responseStream, ServerCallContext context)
    {
        // The donor serves the snapshot of the sync point it is waiting at, which is where the joiner enters.
        byte[] state = await endpoint.SnapshotAsync(context.CancellationToken);
        for (int offset = 0; offset < state.Length; offset += StateChunkBytes)
        {
            int length = Math.Min(StateChunkBytes, state.Length - offset);
            await responseStream.WriteAsync(new StateChunk { Data = UnsafeByteOperations.UnsafeWrap(state.AsMemory(offset, length)) }, context.CancellationToken);
        }
    }

    public override Task<StatusReply> GetStatus(StatusRequest request, ServerCallContext context) => Task.FromResult(endpoint.Status());

    public override Task<SetSyncPeriodsReply> SetSyncPeriods(SetSyncPeriodsRequest request, ServerCallContext context) =>
        Task.FromResult(endpoint.SetSyncPeriods(request));
}
