using System.Buffers;
using System.Buffers.Binary;
using DesLoc.Transport.Membership;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// Ring traffic over <see cref="SocketDataPlane"/> connections: each step is one frame (operation, step, length)
/// followed by the payload, sent straight from the training buffer and received in 1 MiB pieces.
/// </summary>
public sealed class SocketRingLink(int rank, IReadOnlyList<(string Host, int Port)> dataEndpoints, SocketDataPlane plane) : IRingLink
{
    private const int PieceBytes = 1 << 20;

    public IRingOperation Begin(QuorumView quorum, ulong operation, int successor, int predecessor, CancellationToken deadline)
    {
        (string host, int port) = dataEndpoints[successor];
        Task<Stream> outgoing = plane.OutgoingAsync(quorum.Id, rank, successor, host, port, deadline);
        Task<Stream> incoming = plane.IncomingAsync(quorum.Id, predecessor, deadline);
        return new Operation(operation, outgoing, incoming, deadline);
    }

    public void KeepOnly(ulong current) => plane.KeepOnly(current);

    private sealed class Operation(ulong number, Task<Stream> outgoing, Task<Stream> incoming, CancellationToken deadline) : IRingOperation
    {
        private readonly byte[] _piece = ArrayPool<byte>.Shared.Rent(PieceBytes);
        private long _sent;

        public async Task SendAsync(uint step, ReadOnlyMemory<byte> data)
        {
            Stream stream = await outgoing.WaitAsync(deadline);
            byte[] header = new byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(header, number);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), step);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), data.Length);
            await stream.WriteAsync(header, deadline);
            await stream.WriteAsync(data, deadline);
            await stream.FlushAsync(deadline);
            _sent += data.Length;
        }

        public async Task ReceiveAsync(uint step, BytesConsumer consume)
        {
            Stream stream = await incoming.WaitAsync(deadline);
            await stream.ReadExactlyAsync(_piece.AsMemory(0, 16), deadline);
            ulong operation = BinaryPrimitives.ReadUInt64LittleEndian(_piece);
            uint ringStep = BinaryPrimitives.ReadUInt32LittleEndian(_piece.AsSpan(8));
            int remaining = BinaryPrimitives.ReadInt32LittleEndian(_piece.AsSpan(12));
            if (operation != number || ringStep != step || remaining < 0)
            {
                throw new RoundFailedException($"Expected operation {number} step {step} from the predecessor, got operation {operation} step {ringStep}.");
            }

            while (remaining > 0)
            {
                int read = await stream.ReadAsync(_piece.AsMemory(0, Math.Min(PieceBytes, remaining)), deadline);
                if (read == 0)
                {
                    throw new IOException("The predecessor closed the data connection.");
                }

                consume(_piece.AsSpan(0, read));
                remaining -= read;
            }
        }

        public Task<long> FinishAsync() => Task.FromResult(_sent);

        public ValueTask DisposeAsync()
        {
            ArrayPool<byte>.Shared.Return(_piece);
            return ValueTask.CompletedTask;
        }
    }
}
