using DesLoc.Contract.Collectives;
using System.Buffers;
using System.Diagnostics;
using System.Numerics.Tensors;
using DesLoc.Transport.Membership;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// Ring collectives between processes over an <see cref="IRingLink"/> (sockets or gRPC streams). All-reduce is
/// reduce-scatter then all-gather, so each rank sends 2(W−1)/W of the buffer, the bandwidth-optimal amount; the
/// chunk owner divides by W once, so every rank ends with bit-identical means. Values travel in a <see cref="WireFormat"/>
/// (<see cref="WireCompression"/>: state in one, pseudo-gradients in another) and are summed in float32; the owner of a
/// reduced chunk, and a broadcast's root, round their own copy as their receivers decode it, so every rank still ends
/// bit-identical. A fed-back all-reduce rounds each chunk before it sends it (its contribution or the partial sum it
/// forwards) and the mean of the chunk it owns, and keeps every one of those errors in the caller's residual, the
/// mean's times W since the mean is a W-th of the sum. Members are those of
/// <see cref="Quorum"/>; any failure, or no progress within the timeout, is a <see cref="RoundFailedException"/>.
/// </summary>
public sealed class RingCollective : ICollective
{
    private readonly IRingLink _link;
    private readonly TimeSpan _operationTimeout;
    private readonly WireCompression _compression;
    private ulong _operation;
    private QuorumView _quorum;

    /// <summary>The collective of rank <paramref name="rank"/>; until the first quorum its view is the whole configured group.</summary>
    public RingCollective(int rank, int configuredWorldSize, IRingLink link, TimeSpan operationTimeout, WireCompression? compression = null)
        : this(rank, [.. Enumerable.Range(0, configuredWorldSize)], link, operationTimeout, compression)
    {
    }

    /// <summary>
    /// The collective of global rank <paramref name="rank"/> in a ring of <paramref name="configuredMembers"/> (global ranks, ascending) until the first quorum;
    /// float buffers travel as <paramref name="compression"/> says (float32 unless given).
    /// </summary>
    public RingCollective(int rank, IReadOnlyList<int> configuredMembers, IRingLink link, TimeSpan operationTimeout, WireCompression? compression = null)
    {
        Rank = rank;
        _link = link;
        _operationTimeout = operationTimeout;
        _compression = compression ?? WireCompression.None;
        _quorum = new QuorumView(0, configuredMembers);
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
            _link.KeepOnly(value.Id);
            _quorum = value;
            _operation = 0;
        }
    }

    public ValueTask<long> AllReduceMeanAsync(Memory<float> buffer, CancellationToken cancellationToken) =>
        AllReduceMeanAsync(buffer, _compression.State, Memory<float>.Empty, cancellationToken);

    public ValueTask<long> AllReduceMeanFedBackAsync(Memory<float> buffer, Memory<float> residual, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(residual.Length, buffer.Length, nameof(residual));
        return AllReduceMeanAsync(buffer, _compression.PseudoGradient, residual, cancellationToken);
    }

    /// <summary>The ring all-reduce in <paramref name="format"/>; with a <paramref name="residual"/>, every rounding this rank makes is fed back into it.</summary>
    private async ValueTask<long> AllReduceMeanAsync(Memory<float> buffer, WireFormat format, Memory<float> residual, CancellationToken cancellationToken)
    {
        int world = WorldSize;
        if (world == 1)
        {
            return 0;
        }

        bool feedBack = !residual.IsEmpty;
        int position = _quorum.PositionOf(Rank);
        return await RunAsync(async op =>
        {
            for (int step = 0; step < world - 1; step++)
            {
                int sent = Mod(position - step, world);
                if (feedBack)
                {
                    // Rounded first, the chunk encodes exactly as it is now, and what it lost stays with this rank. The
                    // chunk is free to change: this rank receives it back as the mean in the all-gather.
                    format.RoundInPlace(Chunk(buffer, sent, world).Span, Chunk(residual, sent, world).Span, weight: 1);
                }

                await ExchangeAsync(op, (uint)step, format, Chunk(buffer, sent, world), Chunk(buffer, Mod(position - step - 1, world), world), accumulate: true);
            }

            // This rank now holds the full sum of chunk position+1: turn it into the mean before sharing it.
            int ownedChunk = Mod(position + 1, world);
            Memory<float> owned = Chunk(buffer, ownedChunk, world);
            TensorPrimitives.Divide(owned.Span, world, owned.Span);
            if (feedBack)
            {
                format.RoundInPlace(owned.Span, Chunk(residual, ownedChunk, world).Span, weight: world);
            }
            else
            {
                format.RoundInPlace(owned.Span);
            }

            for (int step = 0; step < world - 1; step++)
            {
                await ExchangeAsync(op, (uint)(world - 1 + step), format, Chunk(buffer, Mod(position + 1 - step, world), world), Chunk(buffer, Mod(position - step, world), world), accumulate: false);
            }
        }, cancellationToken);
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

        long sent = await RunAsync(async op =>
        {
            for (int step = 0; step < world - 1; step++)
            {
                Task sending = op.SendAsync((uint)step, payloads[Mod(position - step, world)]);
                var received = new ArrayBufferWriter<byte>();
                await op.ReceiveAsync((uint)step, piece => received.Write(piece));
                payloads[Mod(position - step - 1, world)] = received.WrittenMemory;
                await sending;
            }
        }, cancellationToken);
        return new GatherResult(payloads, sent);
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
        return await RunAsync(async op =>
        {
            if (position != rootPosition)
            {
                await ReceiveAsync(op, 0, buffer, _compression.State, accumulate: false);
            }
            else
            {
                _compression.State.RoundInPlace(buffer.Span);
            }

            if (Mod(position + 1, world) != rootPosition)
            {
                using IMemoryOwner<byte> encoded = _compression.State.Encode(buffer);
                await op.SendAsync(0, encoded.Memory);
            }
        }, cancellationToken);
    }

    private static async Task ExchangeAsync(IRingOperation op, uint step, WireFormat format, Memory<float> send, Memory<float> receive, bool accumulate)
    {
        // With float32 no copy: the link sends straight from the training buffer, which this step does not write.
        using IMemoryOwner<byte> encoded = format.Encode(send);
        Task sending = op.SendAsync(step, encoded.Memory);
        try
        {
            await ReceiveAsync(op, step, receive, format, accumulate);
        }
        finally
        {
            // The encoded buffer lives until the send is done, whatever the receive did.
            await sending;
        }
    }

    /// <summary>Decodes the values of one step into <paramref name="receive"/>, adding them or replacing it; pieces may split a block.</summary>
    private static async Task ReceiveAsync(IRingOperation op, uint step, Memory<float> receive, WireFormat format, bool accumulate)
    {
        int blockValues = format.BlockValues;
        int blockBytes = (int)format.EncodedBytes(blockValues);
        int offset = 0;
        int carried = 0;
        byte[] partial = new byte[blockBytes];
        await op.ReceiveAsync(step, piece =>
        {
            while (!piece.IsEmpty)
            {
                int remaining = receive.Length - offset;
                if (remaining == 0)
                {
                    throw new RoundFailedException($"Ring step {step} received more than the {receive.Length} values expected.");
                }

                // Whole blocks straight from the piece; a block split across pieces, or a message's shorter last block, is carried.
                int blocks = Math.Min(piece.Length / blockBytes, remaining / blockValues);
                if (carried == 0 && blocks > 0)
                {
                    Apply(piece[..(blocks * blockBytes)], blocks * blockValues);
                    piece = piece[(blocks * blockBytes)..];
                    continue;
                }

                int values = Math.Min(blockValues, remaining);
                int bytes = (int)format.EncodedBytes(values);
                int take = Math.Min(bytes - carried, piece.Length);
                piece[..take].CopyTo(partial.AsSpan(carried));
                carried += take;
                piece = piece[take..];
                if (carried == bytes)
                {
                    Apply(partial.AsSpan(0, bytes), values);
                    carried = 0;
                }
            }
        });
        if (offset != receive.Length || carried != 0)
        {
            throw new RoundFailedException($"Ring step {step} received {offset} values, expected {receive.Length}.");
        }

        void Apply(ReadOnlySpan<byte> encoded, int count)
        {
            format.Decode(encoded, receive.Span.Slice(offset, count), accumulate);
            offset += count;
        }
    }

    private async Task<long> RunAsync(Func<IRingOperation, Task> body, CancellationToken cancellationToken)
    {
        QuorumView quorum = _quorum;
        int position = quorum.PositionOf(Rank);
        int world = quorum.Members.Count;
        ulong number = _operation++;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_operationTimeout);
        var clock = Stopwatch.StartNew();
        try
        {
            await using IRingOperation op = _link.Begin(quorum, number, quorum.Members[Mod(position + 1, world)], quorum.Members[Mod(position - 1, world)], deadline.Token);
            await body(op);
            long sent = await op.FinishAsync();
            Meter.Record(sent, clock.Elapsed);
            return sent;
        }
        catch (Exception e) when (e is not RoundFailedException && !cancellationToken.IsCancellationRequested
                                  && e is OperationCanceledException or IOException or System.Net.Sockets.SocketException or InvalidOperationException or global::Grpc.Core.RpcException or InvalidDataException)
        {
            throw new RoundFailedException($"Collective operation {number} of quorum {quorum.Id} failed on rank {Rank}: {e.Message}", e);
        }
    }

    private static Memory<float> Chunk(Memory<float> buffer, int chunk, int world) =>
        buffer.Slice((int)RingTraffic.ChunkStart(buffer.Length, world, chunk), (int)RingTraffic.ChunkLength(buffer.Length, world, chunk));

    private static int Mod(int value, int modulus) => ((value % modulus) + modulus) % modulus;
}

/// <summary>Bytes sent and time spent by the collective, for the measured link bandwidth (an exponential average).</summary>
public sealed class LinkMeter
{
    private readonly Lock _gate = new();
    private double _bytesPerSecond;

    public long Bytes { get; private set; }

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
            if (bytes > 0 && elapsed > TimeSpan.Zero)
            {
                double sample = bytes / elapsed.TotalSeconds;
                _bytesPerSecond = _bytesPerSecond == 0 ? sample : 0.7 * _bytesPerSecond + 0.3 * sample;
            }
        }
    }
}
