using DesLoc.Contract.Collectives;
using DesLoc.Contract.Wire;
using DesLoc.Sync.State;

namespace DesLoc.Sync.Accounting;

/// <summary>
/// One worker's byte accounting, part of the algorithm rather than a log line. Every exchange records, by tier and
/// kind, its payload (the state bytes this worker contributed) and its wire bytes (what the collective sent). Every
/// step also counts what flat DDP would have sent across sites for it, so the reduction factor is measured, not
/// assumed. The properties without a tier are the inter-site tier's: with one worker per replica, all there is.
/// </summary>
public sealed class CommunicationLedger
{
    private static readonly int s_kinds = Enum.GetValues<StateKind>().Length;
    private readonly long[,] _payload = new long[2, s_kinds];
    private readonly long[,] _wire = new long[2, s_kinds];
    private readonly long[,] _exchanges = new long[2, s_kinds];
    private readonly long _ddpWireBytesPerStep;

    /// <summary>The ledger of one worker of <paramref name="replica"/> in a job of the given shape.</summary>
    public CommunicationLedger(long parameterCount, JobTopology topology, int replica)
    {
        ParameterCount = parameterCount;
        WorkersPerReplica = topology.WorkersPerReplica;
        _ddpWireBytesPerStep = FlatDdpCrossSiteBytesPerStep(parameterCount, topology, replica);
    }

    public long ParameterCount { get; }

    public int WorkersPerReplica { get; }

    public long Steps { get; private set; }

    /// <summary>
    /// Bytes that leave replica <paramref name="replica"/>'s site in one step of flat DDP: one ring all-reduce of the
    /// float32 gradients over all R·W workers in replica-major order, where the only cross-site link out of a site
    /// is the one from its last worker to the next replica's first. Zero with one replica: there is no other site.
    /// </summary>
    public static long FlatDdpCrossSiteBytesPerStep(long parameterCount, JobTopology topology, int replica) =>
        topology.Replicas == 1
            ? 0
            : RingTraffic.AllReduceBytes(parameterCount, sizeof(float), topology.Workers, topology.GlobalRank(replica, topology.WorkersPerReplica - 1));

    /// <summary>Counters travel with heal and checkpoints, so a healed worker continues its peer's accounting.</summary>
    public void ExportState(StateBundle bundle)
    {
        bundle.SetLongs("ledger.steps", Steps);
        foreach (Tier tier in Enum.GetValues<Tier>())
        {
            bundle.SetLongs(Section(tier, "payload"), Row(_payload, tier));
            bundle.SetLongs(Section(tier, "wire"), Row(_wire, tier));
            bundle.SetLongs(Section(tier, "exchanges"), Row(_exchanges, tier));
        }
    }

    public void ImportState(StateBundle bundle)
    {
        Steps = bundle.Scalar("ledger.steps");
        foreach (Tier tier in Enum.GetValues<Tier>())
        {
            SetRow(_payload, tier, bundle.Longs(Section(tier, "payload")));
            SetRow(_wire, tier, bundle.Longs(Section(tier, "wire")));
            SetRow(_exchanges, tier, bundle.Longs(Section(tier, "exchanges")));
        }
    }

    /// <summary>Payload bytes DDP would have exchanged: one float32 gradient per parameter per step.</summary>
    public long DdpEquivalentPayloadBytes => Steps * ParameterCount * sizeof(float);

    /// <summary>
    /// Bytes flat DDP over all R·W workers would have sent out of this worker's replica (its site) for the same steps
    /// (<see cref="FlatDdpCrossSiteBytesPerStep"/>): the same on every worker of a replica.
    /// </summary>
    public long DdpEquivalentWireBytes => Steps * _ddpWireBytesPerStep;

    public long PayloadBytes(StateKind kind) => PayloadBytes(Tier.Inter, kind);

    public long WireBytes(StateKind kind) => WireBytes(Tier.Inter, kind);

    public long Exchanges(StateKind kind) => Exchanges(Tier.Inter, kind);

    public long PayloadBytes(Tier tier, StateKind kind) => _payload[(int)tier, (int)kind];

    public long WireBytes(Tier tier, StateKind kind) => _wire[(int)tier, (int)kind];

    public long Exchanges(Tier tier, StateKind kind) => _exchanges[(int)tier, (int)kind];

    public long TotalPayloadBytes => Row(_payload, Tier.Inter).Sum();

    /// <summary>Wire bytes this worker sent across sites.</summary>
    public long TotalWireBytes => Row(_wire, Tier.Inter).Sum();

    public long TotalWireBytesIn(Tier tier) => Row(_wire, tier).Sum();

    /// <summary>
    /// Flat DDP's cross-site bytes over what this worker's replica sent across sites, taking the replica's W workers
    /// to have sent alike (their shards differ by at most one element); a job's exact figure is
    /// <see cref="LedgerSnapshot.JobReductionVsDdp"/>. Infinite when nothing was sent.
    /// </summary>
    public double ReductionVsDdp => TotalWireBytes == 0 ? double.PositiveInfinity : (double)DdpEquivalentWireBytes / (TotalWireBytes * WorkersPerReplica);

    public void CountStep() => Steps++;

    /// <summary>Records an exchange between replicas.</summary>
    public void Record(StateKind kind, long payloadBytes, long wireBytes) => Record(Tier.Inter, kind, payloadBytes, wireBytes);

    public void Record(Tier tier, StateKind kind, long payloadBytes, long wireBytes)
    {
        _payload[(int)tier, (int)kind] += payloadBytes;
        _wire[(int)tier, (int)kind] += wireBytes;
        _exchanges[(int)tier, (int)kind]++;
    }

    /// <summary>
    /// Records one exchange that carried several kinds in one buffer: payload per kind, and the wire bytes
    /// shared in proportion to payload (the remainder to the first kind, so the total stays exact). Without
    /// <paramref name="countPayload"/> only the wire bytes count: the gather of shards inside a replica sends again
    /// what the exchange between replicas already carried.
    /// </summary>
    public void RecordFused(Tier tier, IReadOnlyList<(StateKind Kind, long PayloadBytes)> parts, long wireBytes, bool countPayload = true)
    {
        long totalPayload = parts.Sum(p => p.PayloadBytes);
        long assigned = 0;
        for (int i = parts.Count - 1; i >= 0; i--)
        {
            long share = i == 0 ? wireBytes - assigned : totalPayload == 0 ? 0 : wireBytes * parts[i].PayloadBytes / totalPayload;
            assigned += share;
            Record(tier, parts[i].Kind, countPayload ? parts[i].PayloadBytes : 0, share);
        }
    }

    /// <summary>A copy of the counters, for reporting and tests.</summary>
    public LedgerSnapshot Snapshot() => new(
        Steps,
        WorkersPerReplica,
        Enum.GetValues<StateKind>().ToDictionary(k => k, PayloadBytes),
        Enum.GetValues<StateKind>().ToDictionary(k => k, WireBytes),
        Enum.GetValues<StateKind>().ToDictionary(k => k, k => WireBytes(Tier.Intra, k)),
        DdpEquivalentPayloadBytes,
        DdpEquivalentWireBytes);

    private static string Section(Tier tier, string counter) => tier == Tier.Inter ? $"ledger.{counter}" : $"ledger.{tier.Label()}.{counter}";

    private static long[] Row(long[,] table, Tier tier) => [.. Enumerable.Range(0, s_kinds).Select(k => table[(int)tier, k])];

    private static void SetRow(long[,] table, Tier tier, long[] values)
    {
        for (int k = 0; k < s_kinds; k++)
        {
            table[(int)tier, k] = values[k];
        }
    }
}

/// <summary>One worker's ledger counters at one moment; without a tier, the inter-site tier's.</summary>
public sealed record LedgerSnapshot(
    long Steps,
    int WorkersPerReplica,
    IReadOnlyDictionary<StateKind, long> PayloadBytes,
    IReadOnlyDictionary<StateKind, long> WireBytes,
    IReadOnlyDictionary<StateKind, long> IntraWireBytes,
    long DdpEquivalentPayloadBytes,
    long DdpEquivalentWireBytes)
{
    public long TotalWireBytes => WireBytes.Values.Sum();

    public long TotalIntraWireBytes => IntraWireBytes.Values.Sum();

    public long TotalPayloadBytes => PayloadBytes.Values.Sum();

    public double ReductionVsDdp => TotalWireBytes == 0 ? double.PositiveInfinity : (double)DdpEquivalentWireBytes / (TotalWireBytes * WorkersPerReplica);

    /// <summary>
    /// A job's reduction vs DDP, exactly: flat DDP's cross-site bytes, counted once per replica, over the cross-site
    /// bytes every worker sent. <paramref name="workers"/> are all the job's workers, replica-major.
    /// </summary>
    public static double JobReductionVsDdp(IReadOnlyList<LedgerSnapshot> workers)
    {
        long sent = workers.Sum(w => w.TotalWireBytes);
        long ddp = workers.Where((w, index) => index % w.WorkersPerReplica == 0).Sum(w => w.DdpEquivalentWireBytes);
        return sent == 0 ? double.PositiveInfinity : (double)ddp / sent;
    }
}
