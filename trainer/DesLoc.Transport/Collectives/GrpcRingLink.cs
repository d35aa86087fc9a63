using DesLoc.Transport.Grpc;
using DesLoc.Transport.Membership;
using DesLoc.Transport.Protocol;
using Google.Protobuf;
using Grpc.Core;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// Ring traffic as gRPC: one client stream per operation to the successor's <c>Push</c>; the predecessor's segments
/// arrive through this replica's <see cref="Mailbox"/>. Needs no port beyond the gRPC one, at gRPC's throughput.
/// </summary>
public sealed class GrpcRingLink(int rank, PeerDirectory peers, Mailbox mailbox, int segmentBytes = 64 << 10) : IRingLink
{
    public IRingOperation Begin(QuorumView quorum, ulong operation, int successor, int predecessor, CancellationToken deadline) =>
        new Operation(rank, peers, mailbox, segmentBytes, quorum.Id, operation, successor, predecessor, deadline);

    public void KeepOnly(ulong current) => mailbox.KeepOnly(current);

    private sealed class Operation(
        int rank, PeerDirectory peers, Mailbox mailbox, int segmentBytes, ulong quorum, ulong number, int successor, int predecessor, CancellationToken deadline) : IRingOperation
    {
        private readonly AsyncClientStreamingCall<Segment, PushAck> _stream = peers.Replica(successor).Push(JobToken.Headers(peers.Token), cancellationToken: deadline);
        private readonly System.Threading.Channels.ChannelReader<Segment> _incoming = mailbox.Reader(quorum, number);
        private long _sent;

        public async Task SendAsync(uint step, ReadOnlyMemory<byte> data)
        {
            uint index = 0;
            int offset = 0;
            do
            {
                int length = Math.Min(segmentBytes, data.Length - offset);
                await _stream.RequestStream.WriteAsync(new Segment
                {
                    QuorumId = quorum,
                    Operation = number,
                    RingStep = step,
                    Index = index++,
                    Sender = (uint)rank,
                    Last = offset + length == data.Length,
                    Data = UnsafeByteOperations.UnsafeWrap(data.Slice(offset, length)),
                }, deadline);
                offset += length;
                _sent += length;
            }
            while (offset < data.Length);
        }

        public async Task ReceiveAsync(uint step, BytesConsumer consume)
        {
            while (true)
            {
                Segment segment = await _incoming.ReadAsync(deadline);
                if (segment.RingStep != step || segment.Sender != predecessor)
                {
                    throw new RoundFailedException($"Expected ring step {step} from rank {predecessor}, got step {segment.RingStep} from rank {segment.Sender}.");
                }

                consume(segment.Data.Span);
                if (segment.Last)
                {
                    return;
                }
            }
        }

        public async Task<long> FinishAsync()
        {
            await _stream.RequestStream.CompleteAsync();
            await _stream.ResponseAsync.WaitAsync(deadline);
            return _sent;
        }

        public ValueTask DisposeAsync()
        {
            mailbox.Complete(quorum, number);
            _stream.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
