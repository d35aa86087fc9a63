using DesLoc.Contract.Collectives;
using System.Collections.Concurrent;
using System.Numerics.Tensors;

namespace DesLoc.Transport.Collectives;

/// <summary>
/// N replicas in one process meeting at rendezvous points. Each member numbers its calls; the k-th call of
/// every member forms round k. The last member to arrive computes the result (summing in rank order, so
/// results are deterministic and identical on every rank) and releases the others. Float values are rounded as the
/// <see cref="WireFormat"/> carries them (each contribution as sent, the mean and a broadcast as received) and summed
/// in float32; wire bytes are what the ring algorithms would send in that format (<see cref="RingTraffic"/>), so
/// values and accounting match the ring collective's.
/// </summary>
public sealed class InMemoryCollectiveGroup
{
    private readonly ConcurrentDictionary<long, Round> _rounds = new();
    private readonly Member[] _members;
    private volatile Exception? _abortReason;

    public InMemoryCollectiveGroup(int worldSize, WireFormat? format = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        WorldSize = worldSize;
        Format = format ?? WireFormat.Uncompressed;
        _members = Enumerable.Range(0, worldSize).Select(rank => new Member(this, rank)).ToArray();
    }

    public int WorldSize { get; }

    /// <summary>How float buffers travel.</summary>
    public WireFormat Format { get; }

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
        Round round = _rounds.GetOrAdd(sequence, _ => new Round(WorldSize, WorldSize == 1 ? WireFormat.Uncompressed : Format));
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
        AllGather,
        Broadcast,
    }

    private sealed record Contribution(Operation Operation, Memory<float> Floats, ReadOnlyMemory<byte> Bytes, int Root);

    private sealed class Round(int worldSize, WireFormat format)
    {
        private readonly Lock _gate = new();
        private readonly Contribution?[] _contributions = new Contribution?[worldSize];
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;
        private int _departed;

        public Task Completion => _completion.Task;

        public float[] Floats { get; private set; } = [];

        public ReadOnlyMemory<byte>[] Payloads { get; private set; } = [];

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
                    float[] sum = new float[first.Floats.Length];
                    float[] sent = new float[first.Floats.Length];
                    foreach (Contribution? contribution in _contributions)
                    {
                        contribution!.Floats.Span.CopyTo(sent);
                        format.RoundInPlace(sent);
                        TensorPrimitives.Add(sum, sent, sum);
                    }

                    TensorPrimitives.Divide(sum, _contributions.Length, sum);
                    format.RoundInPlace(sum);
                    Floats = sum;
                    break;
                case Operation.Broadcast:
                    Floats = _contributions[first.Root]!.Floats.ToArray();
                    format.RoundInPlace(Floats);
                    break;
                case Operation.AllGather:
                    Payloads = _contributions.Select(c => (ReadOnlyMemory<byte>)c!.Bytes.ToArray()).ToArray();
                    break;
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
            return RingTraffic.AllReduceBytes(buffer.Length, group.Format.BytesPerValue, WorldSize, Rank);
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
            return RingTraffic.BroadcastBytes((long)buffer.Length * group.Format.BytesPerValue, WorldSize, root, Rank);
        }
    }
}

/// <summary>A collective call failed because the group was aborted (a member crashed or the job stopped).</summary>
public sealed class CollectiveAbortedException(string message, Exception inner) : Exception(message, inner);
