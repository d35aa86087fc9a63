using System.Buffers;
using System.Buffers.Binary;
using DesLoc.Transport.Membership;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// Ring traffic over <see cref="SocketDataPlane"/> connections: each step's payload is striped across the
/// connections to the successor in contiguous slices (<see cref="Stripes"/>), each slice one frame (operation, step,
/// whole payload's length) followed by its bytes, sent straight from the training buffer, all slices at once. The
/// receiver feeds the first slice on as it arrives, in 1 MiB pieces, while the others land in buffers, then feeds
/// those in order, so the bytes it delivers are the bytes sent whatever the number of connections.
/// </summary>
public sealed class SocketRingLink(int rank, IReadOnlyList<(string Host, int Port)> dataEndpoints, SocketDataPlane plane) : IRingLink
{
    private const int PieceBytes = 1 << 20;
    private const int HeaderBytes = 16;

    /// <summary>A slice is never shorter than this, so a short message stays on one connection and pays one latency.</summary>
    public const int MinStripeBytes = 256 << 10;

    public IRingOperation Begin(QuorumView quorum, ulong operation, int successor, int predecessor, CancellationToken deadline)
    {
        (string host, int port) = dataEndpoints[successor];
        Task<Stream[]> outgoing = plane.OutgoingAsync(quorum.Id, rank, successor, host, port, deadline);
        Task<Stream[]> incoming = plane.IncomingAsync(quorum.Id, predecessor, deadline);
        return new Operation(operation, outgoing, incoming, deadline);
    }

    public void KeepOnly(ulong current) => plane.KeepOnly(current);

    /// <summary>The contiguous slices, in order, that a payload of <paramref name="length"/> bytes travels in over up to <paramref name="streams"/> connections.</summary>
    public static (int Start, int Length)[] Stripes(int length, int streams)
    {
        int count = Math.Clamp(length / MinStripeBytes, 1, streams);
        return [.. Enumerable.Range(0, count).Select(k =>
        {
            int start = (int)((long)length * k / count);
            return (start, (int)((long)length * (k + 1) / count) - start);
        })];
    }

    private sealed class Operation(ulong number, Task<Stream[]> outgoing, Task<Stream[]> incoming, CancellationToken deadline) : IRingOperation
    {
        private readonly byte[] _piece = ArrayPool<byte>.Shared.Rent(PieceBytes);
        private long _sent;

        public async Task SendAsync(uint step, ReadOnlyMemory<byte> data)
        {
            Stream[] streams = await outgoing.WaitAsync(deadline);
            byte[] header = new byte[HeaderBytes];
            BinaryPrimitives.WriteUInt64LittleEndian(header, number);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), step);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), data.Length);
            (int Start, int Length)[] stripes = Stripes(data.Length, streams.Length);
            await Task.WhenAll(stripes.Select((stripe, k) => SendSliceAsync(streams[k], header, data.Slice(stripe.Start, stripe.Length))));
            _sent += data.Length;
        }

        private async Task SendSliceAsync(Stream stream, byte[] header, ReadOnlyMemory<byte> slice)
        {
            await stream.WriteAsync(header, deadline);
            await stream.WriteAsync(slice, deadline);
            await stream.FlushAsync(deadline);
        }

        public async Task ReceiveAsync(uint step, BytesConsumer consume)
        {
            Stream[] streams = await incoming.WaitAsync(deadline);
            int length = await ReadHeaderAsync(streams[0], _piece, step, expected: null);
            (int Start, int Length)[] stripes = Stripes(length, streams.Length);
            Task<byte[]>[] later = [.. stripes.Skip(1).Select((stripe, k) => ReadSliceAsync(streams[k + 1], step, length, stripe.Length))];
            int remaining = stripes[0].Length;
            while (remaining > 0)
            {
                int read = await streams[0].ReadAsync(_piece.AsMemory(0, Math.Min(PieceBytes, remaining)), deadline);
                if (read == 0)
                {
                    throw new IOException("The predecessor closed the data connection.");
                }

                consume(_piece.AsSpan(0, read));
                remaining -= read;
            }

            for (int k = 0; k < later.Length; k++)
            {
                byte[] slice = await later[k];
                try
                {
                    consume(slice.AsSpan(0, stripes[k + 1].Length));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(slice);
                }
            }
        }

        /// <summary>One later slice, whole, in a pooled buffer the caller returns (returned here if the read fails).</summary>
        private async Task<byte[]> ReadSliceAsync(Stream stream, uint step, int length, int sliceLength)
        {
            byte[] slice = ArrayPool<byte>.Shared.Rent(Math.Max(sliceLength, HeaderBytes));
            try
            {
                await ReadHeaderAsync(stream, slice, step, expected: length);
                await stream.ReadExactlyAsync(slice.AsMemory(0, sliceLength), deadline);
                return slice;
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(slice);
                throw;
            }
        }

        /// <summary>Reads and checks one frame header; returns the whole payload's length.</summary>
        private async Task<int> ReadHeaderAsync(Stream stream, byte[] scratch, uint step, int? expected)
        {
            await stream.ReadExactlyAsync(scratch.AsMemory(0, HeaderBytes), deadline);
            ulong operation = BinaryPrimitives.ReadUInt64LittleEndian(scratch);
            uint ringStep = BinaryPrimitives.ReadUInt32LittleEndian(scratch.AsSpan(8));
            int length = BinaryPrimitives.ReadInt32LittleEndian(scratch.AsSpan(12));
            if (operation != number || ringStep != step || length < 0 || (expected is { } e && length != e))
            {
                throw new RoundFailedException($"Expected operation {number} step {step} from the predecessor, got operation {operation} step {ringStep} ({length} bytes).");
            }

            return length;
        }

        public Task<long> FinishAsync() => Task.FromResult(_sent);

        public ValueTask DisposeAsync()
        {
            ArrayPool<byte>.Shared.Return(_piece);
            return ValueTask.CompletedTask;
        }
    }
}
