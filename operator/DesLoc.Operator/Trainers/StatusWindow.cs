using DesLoc.Operator.Reconciliation;
using DesLoc.Transport.Protocol;

namespace DesLoc.Operator.Trainers;

/// <summary>
/// Turns rank 0's cumulative counters into a report of the last interval: the comm fraction the adaptive controller
/// needs is that of the recent past (the link may have just slowed), not the average since the job started.
/// </summary>
internal sealed class StatusWindow
{
    private StatusReply? _previous;

    public TrainerReport Next(StatusReply reply)
    {
        double sync = reply.SyncSeconds - (_previous?.SyncSeconds ?? 0);
        double compute = reply.ComputeSeconds - (_previous?.ComputeSeconds ?? 0);
        // A restarted rank 0 starts its counters again; then the cumulative values are the window.
        if (sync < 0 || compute < 0)
        {
            sync = reply.SyncSeconds;
            compute = reply.ComputeSeconds;
        }

        _previous = reply;
        return new TrainerReport(
            reply.Step,
            reply.Loss,
            reply.BytesSent.Values.Sum(),
            reply.DdpEquivalentBytes,
            reply.LinkBandwidthBytesPerSecond,
            sync + compute > 0 ? sync / (sync + compute) : 0,
            reply.SyncPeriods.ToDictionary(p => p.Key, p => p.Value));
    }
}
