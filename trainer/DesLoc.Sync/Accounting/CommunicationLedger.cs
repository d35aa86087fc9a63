using DesLoc.Contract.Collectives;
using DesLoc.Sync.State;

namespace DesLoc.Sync.Accounting;

/// <summary>
/// Per-replica byte accounting, part of the algorithm rather than a log line. Every exchange records its
/// payload (the state bytes this replica contributed) and its wire bytes (what the collective sent), by kind.
/// Every step also records what DDP would have sent for it (one gradient all-reduce on the same ring), so the
/// reduction factor is measured, not assumed.
/// </summary>
public sealed class CommunicationLedger(long parameterCount, int worldSize, int rank)
{
    private readonly long[] _payload = new long[Enum.GetValues<StateKind>().Length];
    private readonly long[] _wire = new long[Enum.GetValues<StateKind>().Length];
    private readonly long[] _exchanges = new long[Enum.GetValues<StateKind>().Length];
    private readonly long _ddpWireBytesPerStep = RingTraffic.AllReduceBytes(parameterCount, sizeof(float), worldSize, rank);

    public long ParameterCount => parameterCount;

    public long Steps { get; private set; }

    /// <summary>Counters travel with heal and checkpoints, so a healed replica continues its peer's accounting.</summary>
    public void ExportState(StateBundle bundle)
    {
        bundle.SetLongs("ledger.steps", Steps);
        bundle.SetLongs("ledger.payload", _payload);
        bundle.SetLongs("ledger.wire", _wire);
        bundle.SetLongs("ledger.exchanges", _exchanges);
    }

    public void ImportState(StateBundle bundle)
    {
        Steps = bundle.Scalar("ledger.steps");
        bundle.Longs("ledger.payload").CopyTo(_payload, 0);
        bundle.Longs("ledger.wire").CopyTo(_wire, 0);
        bundle.Longs("ledger.exchanges").CopyTo(_exchanges, 0);
    }

    /// <summary>Payload bytes DDP would have exchanged: one float32 gradient per parameter per step.</summary>
    public long DdpEquivalentPayloadBytes => Steps * parameterCount * sizeof(float);

    /// <summary>Wire bytes DDP's ring all-reduce would have sent from this replica.</summary>
    public long DdpEquivalentWireBytes => Steps * _ddpWireBytesPerStep;

    public long PayloadBytes(StateKind kind) => _payload[(int)kind];

    public long WireBytes(StateKind kind) => _wire[(int)kind];

    public long Exchanges(StateKind kind) => _exchanges[(int)kind];

    public long TotalPayloadBytes => _payload.Sum();

    public long TotalWireBytes => _wire.Sum();

    /// <summary>DDP-equivalent wire bytes over wire bytes sent; infinite when nothing was sent.</summary>
    public double ReductionVsDdp => TotalWireBytes == 0 ? double.PositiveInfinity : (double)DdpEquivalentWireBytes / TotalWireBytes;

    public void CountStep() => Steps++;

    public void Record(StateKind kind, long payloadBytes, long wireBytes)
    {
        _payload[(int)kind] += payloadBytes;
        _wire[(int)kind] += wireBytes;
        _exchanges[(int)kind]++;
    }

    /// <summary>
    /// Records one exchange that carried several kinds in one buffer: payload per kind, and the wire bytes
    /// shared in proportion to payload (the remainder to the first kind, so the total stays exact).
    /// </summary>
    public void RecordFused(IReadOnlyList<(StateKind Kind, long PayloadBytes)> parts, long wireBytes)
    {
        long totalPayload = parts.Sum(p => p.PayloadBytes);
        long assigned = 0;
        for (int i = parts.Count - 1; i >= 0; i--)
        {
            long share = i == 0 ? wireBytes - assigned : wireBytes * parts[i].PayloadBytes / totalPayload;
            assigned += share;
            Record(parts[i].Kind, parts[i].PayloadBytes, share);
        }
    }

    /// <summary>A copy of the counters, for reporting and tests.</summary>
    public LedgerSnapshot Snapshot() => new(
        Steps,
        Enum.GetValues<StateKind>().ToDictionary(k => k, PayloadBytes),
        Enum.GetValues<StateKind>().ToDictionary(k => k, WireBytes),
        DdpEquivalentPayloadBytes,
        DdpEquivalentWireBytes);
}

/// <summary>Ledger counters at one moment.</summary>
public sealed record LedgerSnapshot(
    long Steps,
    IReadOnlyDictionary<StateKind, long> PayloadBytes,
    IReadOnlyDictionary<StateKind, long> WireBytes,
    long DdpEquivalentPayloadBytes,
    long DdpEquivalentWireBytes)
{
    public long TotalWireBytes => WireBytes.Values.Sum();

    public long TotalPayloadBytes => PayloadBytes.Values.Sum();

    public double ReductionVsDdp => TotalWireBytes == 0 ? double.PositiveInfinity : (double)DdpEquivalentWireBytes / TotalWireBytes;
}
