using DesLoc.Contract.Collectives;
using System.Collections.Concurrent;
using System.Numerics.Tensors;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// N replicas in one process meeting at rendezvous points. Each member numbers its calls; the k-th call of
/// every member forms round k. The last member to arrive computes the result (summing in rank order, so
/// results are deterministic and identical on every rank) and releases the others. Float values are rounded as the
/// <see cref="WireCompression"/> carries them (each contribution as sent, the mean and a broadcast as received, on the
/// ring's chunks) and summed in float32; wire bytes are what the ring algorithms would send in that format
/// (<see cref="RingTraffic"/>), so values and accounting match the ring collective's, except that the ring also rounds
/// the partial sums it forwards. A fed-back all-reduce keeps each member's rounding of its contribution in its residual,
/// and the rounding of each chunk's mean, times W, in the residual of the rank that owns that chunk in the ring.
/// </summary>
public sealed class InMemoryCollectiveGroup
{
    private readonly ConcurrentDictionary<long, Round> _rounds = new();
    private readonly Member[] _members;
    private volatile Exception? _abortReason;

    public InMemoryCollectiveGroup(int worldSize, WireCompression? compression = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        WorldSize = worldSize;
        Compression = compression ?? WireCompression.None;
        _members = Enumerable.Range(0, worldSize).Select(rank => new Member(this, rank)).ToArray();
    }

    public int WorldSize { get; }

    /// <summary>How float buffers travel.</summary>
    public WireCompression Compression { get; }

    /// <summary>The collective seen by replica <paramref name="rank"/>.</summary>
    public ICollective this[int rank] => _members[rank];

    /// <summary>Fails every pending and future call, so that one replica's crash never leaves the others waiting.</summary>
    public void Abort(Exception reason)
    {
        _abortReason = reason;
        foreach (Round round in _rounds.Values)
        {
            round.Fail(new CollectiveAbortedException("The collective group was aborted.", reason));
        }
    }

    private async ValueTask<Round> RendezvousAsync(Member member, Contribution contribution, CancellationToken cancellationToken)
    {
        ThrowIfAborted();
        long sequence = member.NextSequence();
        // Alone, nothing travels: the ring leaves the buffer as it is, and so does this group.
        Round round = _rounds.GetOrAdd(sequence, _ => new Round(WorldSize, WorldSize == 1 ? WireCompression.None : Compression));
        round.Arrive(member.Rank, contribution);
        ThrowIfAborted();
        await round.Completion.WaitAsync(cancellationToken);
        if (round.Depart())
        {
            _rounds.TryRemove(sequence, out _);
        }

        return round;
    }

    private void ThrowIfAborted()
    {
        if (_abortReason is { } reason)
        {
            throw new CollectiveAbortedException("The collective group was aborted.", reason);
        }
    }

    private enum Operation
    {
        AllReduceMean,
        AllReduceMeanFedBack,
        AllGather,
        Broadcast,
    }

    private sealed record Contribution(Operation Operation, Memory<float> Floats, ReadOnlyMemory<byte> Bytes, int Root);

    private sealed class Round(int worldSize, WireCompression compression)
    {
        private readonly Lock _gate = new();
        private readonly Contribution?[] _contributions = new Contribution?[worldSize];
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;
        private int _departed;

        public Task Completion => _completion.Task;

        public float[] Floats { get; private set; } = [];

        public ReadOnlyMemory<byte>[] Payloads { get; private set; } = [];

        /// <summary>What a fed-back all-reduce adds to each rank's residual.</summary>
        public float[][] ResidualChanges { get; private set; } = [];

        public void Arrive(int rank, Contribution contribution)
        {
            lock (_gate)
            {
                _contributions[rank] = contribution;
                if (++_arrived < _contributions.Length)
                {
                    return;
                }
            }

            try
            {
                Combine();
                _completion.TrySetResult();
            }
            catch (InvalidOperationException mismatch)
            {
                _completion.TrySetException(mismatch);
            }
        }

        public bool Depart() => Interlocked.Increment(ref _departed) == _contributions.Length;

        public void Fail(Exception reason) => _completion.TrySetException(reason);

        private void Combine()
        {
            Contribution first = _contributions[0]!;
            for (int rank = 1; rank < _contributions.Length; rank++)
            {
                Contribution other = _contributions[rank]!;
                if (other.Operation != first.Operation || other.Floats.Length != first.Floats.Length || other.Root != first.Root)
                {
                    throw new InvalidOperationException(
                        $"Collective calls disagree: rank 0 called {first.Operation} with {first.Floats.Length} values, " +
                        $"rank {rank} called {other.Operation} with {other.Floats.Length} values.");
                }
            }

            switch (first.Operation)
            {
                case Operation.AllReduceMean:
                    Floats = Mean(compression.State, residualChanges: null);
                    break;
                case Operation.AllReduceMeanFedBack:
                    ResidualChanges = [.. _contributions.Select(c => new float[c!.Floats.Length])];
                    Floats = Mean(compression.PseudoGradient, ResidualChanges);
                    break;
                case Operation.Broadcast:
                    Floats = _contributions[first.Root]!.Floats.ToArray();
                    compression.State.RoundInPlace(Floats);
                    break;
                case Operation.AllGather:
                    Payloads = _contributions.Select(c => (ReadOnlyMemory<byte>)c!.Bytes.ToArray()).ToArray();
                    break;
            }
        }

        /// <summary>The mean of the contributions, each rounded as sent and the mean as received, chunk by chunk as the ring sends them.</summary>
        private float[] Mean(WireFormat format, float[][]? residualChanges)
        {
            int world = _contributions.Length;
            int length = _contributions[0]!.Floats.Length;
            float[] sum = new float[length];
            float[] sent = new float[length];
            for (int rank = 0; rank < world; rank++)
            {
                _contributions[rank]!.Floats.Span.CopyTo(sent);
                for (int chunk = 0; chunk < world; chunk++)
                {
                    RoundChunk(sent, residualChanges?[rank], chunk, weight: 1);
                }

                TensorPrimitives.Add(sum, sent, sum);
            }

            TensorPrimitives.Divide(sum, world, sum);
            for (int chunk = 0; chunk < world; chunk++)
            {
                // In the ring, the rank before a chunk's first sender owns its sum and rounds its mean.
                RoundChunk(sum, residualChanges?[(chunk + world - 1) % world], chunk, weight: world);
            }

            return sum;

            void RoundChunk(float[] values, float[]? residual, int chunk, float weight)
            {
                int start = (int)RingTraffic.ChunkStart(length, world, chunk);
                int count = (int)RingTraffic.ChunkLength(length, world, chunk);
                if (residual is null)
                {
                    format.RoundInPlace(values.AsSpan(start, count));
                }
                else
                {
                    format.RoundInPlace(values.AsSpan(start, count), residual.AsSpan(start, count), weight);
                }
            }
        }
    }

    private sealed class Member(InMemoryCollectiveGroup group, int rank) : ICollective
    {
        private long _sequence;

        public int Rank => rank;

        public int WorldSize => group.WorldSize;

        public long NextSequence() => _sequence++;

        public async ValueTask<long> AllReduceMeanAsync(Memory<float> buffer, CancellationToken cancellationToken)
        {
            Round round = await group.RendezvousAsync(this, new(Operation.AllReduceMean, buffer, default, 0), cancellationToken);
            round.Floats.CopyTo(buffer);
            return RingTraffic.AllReduceBytes(buffer.Length, group.Compression.State.EncodedBytes, WorldSize, Rank);
        }

        public async ValueTask<long> AllReduceMeanFedBackAsync(Memory<float> buffer, Memory<float> residual, CancellationToken cancellationToken)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(residual.Length, buffer.Length, nameof(residual));
            Round round = await group.RendezvousAsync(this, new(Operation.AllReduceMeanFedBack, buffer, default, 0), cancellationToken);
            round.Floats.CopyTo(buffer);
            TensorPrimitives.Add(residual.Span, round.ResidualChanges[Rank], residual.Span);
            return RingTraffic.AllReduceBytes(buffer.Length, group.Compression.PseudoGradient.EncodedBytes, WorldSize, Rank);
        }

        public async ValueTask<GatherResult> AllGatherAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            Round round = await group.RendezvousAsync(this, new(Operation.AllGather, Memory<float>.Empty, payload, 0), cancellationToken);
            long[] lengths = round.Payloads.Select(p => (long)p.Length).ToArray();
            return new GatherResult(round.Payloads, RingTraffic.AllGatherBytes(lengths, Rank));
        }

        public async ValueTask<long> BroadcastAsync(Memory<float> buffer, int root, CancellationToken cancellationToken)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(root);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, WorldSize);
            Round round = await group.RendezvousAsync(this, new(Operation.Broadcast, buffer, default, root), cancellationToken);
            round.Floats.CopyTo(buffer);
            return RingTraffic.BroadcastBytes(group.Compression.State.EncodedBytes(buffer.Length), WorldSize, root, Rank);
        }
    }
}

/// <summary>A collective call failed because the group was aborted (a member crashed or the job stopped).</summary>
public sealed class CollectiveAbortedException(string message, Exception inner) : Exception(message, inner);
