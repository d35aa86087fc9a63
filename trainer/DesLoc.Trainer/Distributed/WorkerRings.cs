using DesLoc.Contract.Collectives;
using DesLoc.Contract.Wire;
using DesLoc.Transport.Collectives;
using DesLoc.Transport.Membership;
using DesLoc.Transport.Protocol;

namespace DesLoc.Trainer.Distributed;

/// <summary>
/// The rings of one worker process (DESIGN.md §6). With one worker per replica, one ring between the replicas. With W:
/// its shard's ring (worker w of every replica, the inter-site tier), the gather of shards inside its replica, and the
/// fast tier (the replica's workers, every step). Every quorum re-keys all three (<see cref="RingChannel"/>): the
/// coordinator only forms quorums of whole replicas, so a replica's workers always enter the same ones, and a worker
/// that was replaced meets its siblings on fresh connections.
/// </summary>
internal sealed class WorkerRings
{
    private readonly JobTopology _topology;
    private readonly int _replica;
    private readonly int _worker;
    private readonly RingCollective _shard;
    private readonly RingCollective? _gather;
    private readonly RingCollective? _fast;

    /// <param name="topology">The job's replicas and workers.</param>
    /// <param name="replica">This worker's replica.</param>
    /// <param name="worker">This worker's index in its replica.</param>
    /// <param name="link">A new link over the job's data plane, one per ring so each drops only its own stale connections.</param>
    /// <param name="operationTimeout">How long one ring operation may take before its round fails.</param>
    /// <param name="interCompression">How float state travels between replicas (sync.compression); inside a replica it stays float32.</param>
    public WorkerRings(JobTopology topology, int replica, int worker, Func<IRingLink> link, TimeSpan operationTimeout, WireCompression interCompression)
    {
        _topology = topology;
        _replica = replica;
        _worker = worker;
        int rank = topology.GlobalRank(replica, worker);
        _shard = new RingCollective(rank, topology.ShardGroup(worker, Enumerable.Range(0, topology.Replicas)), link(), operationTimeout, interCompression);
        if (topology.WorkersPerReplica > 1)
        {
            _gather = new RingCollective(rank, topology.ReplicaWorkers(replica), link(), operationTimeout);
            _fast = new RingCollective(rank, topology.ReplicaWorkers(replica), link(), operationTimeout);
            Slow = new ShardedCollective(replica, worker, _shard, _gather, r => topology.GlobalRank(r, worker));
        }
        else
        {
            Slow = _shard;
        }
    }

    /// <summary>What the sync algorithm exchanges through: between replicas, sharded when the replica has several workers.</summary>
    public ICollective Slow { get; }

    /// <summary>The replica's fast tier, or null with one worker per replica.</summary>
    public ICollective? Fast => _fast;

    /// <summary>The inter-site link as this worker measured it.</summary>
    public LinkMeter InterMeter => _shard.Meter;

    /// <summary>Takes part in <paramref name="quorum"/>: every ring's members and connections are that quorum's.</summary>
    public void Enter(QuorumReply quorum)
    {
        int[] members = [.. quorum.Members];
        _shard.Quorum = new QuorumView(RingChannels.Id(quorum.QuorumId, RingChannel.Shard), [.. members.Where(g => _topology.WorkerOf(g) == _worker)]);
        int[] siblings = [.. members.Where(g => _topology.ReplicaOf(g) == _replica)];
        if (_gather is not null && _fast is not null)
        {
            _gather.Quorum = new QuorumView(RingChannels.Id(quorum.QuorumId, RingChannel.Gather), siblings);
            _fast.Quorum = new QuorumView(RingChannels.Id(quorum.QuorumId, RingChannel.Fast), siblings);
        }
    }
}
