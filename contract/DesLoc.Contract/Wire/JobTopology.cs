namespace DesLoc.Contract.Wire;

/// <summary>
/// The two tiers of a job (DESIGN.md §6): R replicas of W workers. Workers are numbered replica-major, so with
/// W = 1 a worker's global rank is its replica index, as before. The fast tier is the W workers of one replica;
/// shard w of the slow tier is worker w of every replica.
/// </summary>
public sealed record JobTopology(int Replicas, int WorkersPerReplica)
{
    public int Workers => Replicas * WorkersPerReplica;

    public int GlobalRank(int replica, int worker) => (replica * WorkersPerReplica) + worker;

    public int ReplicaOf(int globalRank) => globalRank / WorkersPerReplica;

    public int WorkerOf(int globalRank) => globalRank % WorkersPerReplica;

    /// <summary>Global ranks of the workers of <paramref name="replica"/>: its fast tier.</summary>
    public int[] ReplicaWorkers(int replica) => [.. Enumerable.Range(0, WorkersPerReplica).Select(w => GlobalRank(replica, w))];

    /// <summary>Global ranks of worker <paramref name="worker"/> of each of <paramref name="replicas"/>: shard w's ring on the slow tier.</summary>
    public int[] ShardGroup(int worker, IEnumerable<int> replicas) => [.. replicas.Select(r => GlobalRank(r, worker))];
}
