using System.Buffers;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using DesLoc.Transport.Grpc;
using DesLoc.Transport.Membership;
using DesLoc.Transport.Protocol;
using Google.Protobuf;
using Grpc.Core;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// Ring collectives between processes over gRPC. Each operation opens one client stream to the ring successor
/// and reads the predecessor's segments from the <see cref="Mailbox"/>. All-reduce is reduce-scatter then
/// all-gather (each rank sends 2(W−1)/W of the buffer, the bandwidth-optimal amount); within a ring step the
/// chunk is cut into segments so that sending one segment overlaps with receiving and reducing another.
/// Members are those of <see cref="Quorum"/>; any failure or a stall past the timeout is a <see cref="RoundFailedException"/>.
/// </summary>
public sealed class GrpcRingCollective : ICollective
{
    private readonly PeerDirectory _peers;
    private readonly Mailbox _mailbox;
    private readonly TimeSpan _operationTimeout;
    private readonly int _segmentBytes;
    private ulong _operation;
    private QuorumView _quorum;

    /// <summary>
    /// The collective of rank <paramref name="rank"/>; until the first quorum its view is the whole configured group.
    /// Segments default to 64 KiB: each one the receiver parses stays below the large-object heap, which measured
    /// faster on loopback than 256 KiB to 4 MiB segments (bench/transport.sh).
    /// </summary>
    public GrpcRingCollective(int rank, PeerDirectory peers, Mailbox mailbox, TimeSpan operationTimeout, int segmentBytes = 64 << 10)
    {
        Rank = rank;
        _peers = peers;
        _mailbox = mailbox;
        _operationTimeout = operationTimeout;
        _segmentBytes = segmentBytes;
        _quorum = new QuorumView(0, [.. Enumerable.Range(0, peers.Count)]);
    }

    public int Rank { get; }

    public int WorldSize => _quorum.Members.Count;

    /// <summary>Wire bytes and seconds of every operation so far, for the measured link bandwidth.</summary>
    public LinkMeter Meter { get; } = new();

    public QuorumView Quorum
    {
        get => _quorum;
        set
        {
            _mailbox.Forget(value.Id);
            _quorum = value;
            _operation = 0;
        }
    }

    public async ValueTask<long> AllReduceMeanAsync(Memory<float> buffer, CancellationToken cancellationToken)
    {
        int world = WorldSize;
        if (world == 1)
        {
            return 0;
        }

        int position = _quorum.PositionOf(Rank);
        await using Operation op = Begin(cancellationToken);
        for (int step = 0; step < world - 1; step++)
        {
            int send = Mod(position - step, world);
            int receive = Mod(position - step - 1, world);
            await op.ExchangeAsync((uint)step, Chunk(buffer, send, world), Chunk(buffer, receive, world), accumulate: true);
        }

        // This rank now holds the full sum of chunk position+1: turn it into the mean before sharing it.
        Memory<float> owned = Chunk(buffer, Mod(position + 1, world), world);
        TensorPrimitives.Divide(owned.Span, world, owned.Span);
        for (int step = 0; step < world - 1; step++)
        {
            int send = Mod(position + 1 - step, world);
            int receive = Mod(position - step, world);
            await op.ExchangeAsync((uint)(world - 1 + step), Chunk(buffer, send, world), Chunk(buffer, receive, world), accumulate: false);
        }

        return await op.FinishAsync();
    }

    public async ValueTask<GatherResult> AllGatherAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        int world = WorldSize;
        var payloads = new ReadOnlyMemory<byte>[world];
        int position = _quorum.PositionOf(Rank);
        payloads[position] = payload.ToArray();
        if (world == 1)
        {
            return new GatherResult(payloads, 0);
        }

        await using Operation op = Begin(cancellationToken);
        for (int step = 0; step < world - 1; step++)
        {
            int send = Mod(position - step, world);
            int receive = Mod(position - step - 1, world);
            Task sending = op.SendBytesAsync((uint)step, payloads[send]);
            payloads[receive] = await op.ReceiveBytesAsync((uint)step);
            await sending;
        }

        return new GatherResult(payloads, await op.FinishAsync());
    }

    public async ValueTask<long> BroadcastAsync(Memory<float> buffer, int root, CancellationToken cancellationToken)
    {
        int world = WorldSize;
        if (world == 1)
        {
            return 0;
        }

        int position = _quorum.PositionOf(Rank);
        int rootPosition = _quorum.PositionOf(root);
        int successor = Mod(position + 1, world);
        await using Operation op = Begin(cancellationToken);
        if (position != rootPosition)
        {
            ReadOnlyMemory<byte> received = await op.ReceiveBytesAsync(0);
            MemoryMarshal.Cast<byte, float>(received.Span).CopyTo(buffer.Span);
        }

        if (successor != rootPosition)
        {
            using var view = new FloatBytes(buffer);
            await op.SendBytesAsync(0, view.Memory);
        }

        return await op.FinishAsync();
    }

    private static Memory<float> Chunk(Memory<float> buffer, int chunk, int world)
    {
        long start = 0;
        for (int c = 0; c < chunk; c++)
        {
            start += RingTraffic.ChunkLength(buffer.Length, world, c);
        }

        return buffer.Slice((int)start, (int)RingTraffic.ChunkLength(buffer.Length, world, chunk));
    }

    private static int Mod(int value, int modulus) => ((value % modulus) + modulus) % modulus;

    private Operation Begin(CancellationToken cancellationToken)
    {
        QuorumView quorum = _quorum;
        int successor = quorum.Members[Mod(quorum.PositionOf(Rank) + 1, quorum.Members.Count)];
        return new Operation(this, quorum.Id, _operation++, successor, cancellationToken);
    }

    /// <summary>One collective operation: the stream to the successor, the predecessor's queue, the deadline.</summary>
    private sealed class Operation : IAsyncDisposable
    {
        private readonly GrpcRingCollective _owner;
        private readonly ulong _quorum;
        private readonly ulong _number;
        private readonly CancellationTokenSource _deadline;
        private readonly AsyncClientStreamingCall<Segment, PushAck> _stream;
        private readonly System.Threading.Channels.ChannelReader<Segment> _incoming;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _sent;

        public Operation(GrpcRingCollective owner, ulong quorum, ulong number, int successor, CancellationToken cancellationToken)
        {
            _owner = owner;
            _quorum = quorum;
            _number = number;
            _deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _deadline.CancelAfter(owner._operationTimeout);
            _incoming = owner._mailbox.Reader(quorum, number);
            _stream = owner._peers.Replica(successor).Push(JobToken.Headers(owner._peers.Token), cancellationToken: _deadline.Token);
        }

        public async Task ExchangeAsync(uint step, Memory<float> send, Memory<float> receive, bool accumulate)
        {
            // No copy: gRPC serializes each segment from the training buffer itself, which this step does not write.
            using var view = new FloatBytes(send);
            Task sending = SendBytesAsync(step, view.Memory);
            int offset = 0;
            await ReceiveAsync(step, data =>
            {
                ReadOnlySpan<float> values = MemoryMarshal.Cast<byte, float>(data);
                Span<float> target = receive.Span.Slice(offset, values.Length);
                if (accumulate)
                {
                    TensorPrimitives.Add(target, values, target);
                }
                else
                {
                    values.CopyTo(target);
                }

                offset += values.Length;
            });
            await sending;
            if (offset != receive.Length)
            {
                throw new RoundFailedException($"Ring step {step} received {offset} values, expected {receive.Length}.");
            }
        }

        public async Task SendBytesAsync(uint step, ReadOnlyMemory<byte> data)
        {
            try
            {
                int segmentBytes = _owner._segmentBytes;
                uint index = 0;
                int offset = 0;
                do
                {
                    int length = Math.Min(segmentBytes, data.Length - offset);
                    var segment = new Segment
                    {
                        QuorumId = _quorum,
                        Operation = _number,
                        RingStep = step,
                        Index = index++,
                        Sender = (uint)_owner.Rank,
                        Last = offset + length == data.Length,
                        Data = UnsafeByteOperations.UnsafeWrap(data.Slice(offset, length)),
                    };
                    await _stream.RequestStream.WriteAsync(segment, _deadline.Token);
                    offset += length;
                    _sent += length;
                }
                while (offset < data.Length);
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException or InvalidOperationException or IOException)
            {
                throw Failure("sending", e);
            }
        }

        public async Task<ReadOnlyMemory<byte>> ReceiveBytesAsync(uint step)
        {
            var buffer = new ArrayBufferWriter<byte>();
            await ReceiveAsync(step, data => buffer.Write(data));
            return buffer.WrittenMemory;
        }

        public async Task<long> FinishAsync()
        {
            try
            {
                await _stream.RequestStream.CompleteAsync();
                await _stream.ResponseAsync.WaitAsync(_deadline.Token);
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException or InvalidOperationException or IOException)
            {
                throw Failure("finishing", e);
            }

            _owner.Meter.Record(_sent, _clock.Elapsed);
            return _sent;
        }

        public ValueTask DisposeAsync()
        {
            _owner._mailbox.Complete(_quorum, _number);
            _stream.Dispose();
            _deadline.Dispose();
            return ValueTask.CompletedTask;
        }

        private async Task ReceiveAsync(uint step, ReadOnlySpanAction handle)
        {
            try
            {
                while (true)
                {
                    Segment segment = await _incoming.ReadAsync(_deadline.Token);
                    if (segment.RingStep != step)
                    {
                        throw new RoundFailedException($"Expected ring step {step} from the predecessor, got {segment.RingStep}.");
                    }

                    handle(segment.Data.Span);
                    if (segment.Last)
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException e)
            {
                throw Failure("waiting for the predecessor", e);
            }
        }

        private RoundFailedException Failure(string doing, Exception cause) => new(
            $"Collective operation {_number} of quorum {_quorum} failed while {doing} (rank {_owner.Rank}): {cause.Message}", cause);
    }

    private delegate void ReadOnlySpanAction(ReadOnlySpan<byte> data);
}

/// <summary>Bytes sent and time spent by the collective, for the measured link bandwidth (an exponential average).</summary>
public sealed class LinkMeter
{
    private readonly Lock _gate = new();
    private double _bytesPerSecond;

    public long Bytes { get; private set; }

    public TimeSpan Time { get; private set; }

    public double BytesPerSecond
    {
        get
        {
            lock (_gate)
            {
                return _bytesPerSecond;
            }
        }
    }

    public void Record(long bytes, TimeSpan elapsed)
    {
        lock (_gate)
        {
            Bytes += bytes;
            Time += elapsed;
            if (bytes > 0 && elapsed > TimeSpan.Zero)
            {
                double sample = bytes / elapsed.TotalSeconds;
                _bytesPerSecond = _bytesPerSecond == 0 ? sample : 0.7 * _bytesPerSecond + 0.3 * sample;
            }
        }
    }
}
