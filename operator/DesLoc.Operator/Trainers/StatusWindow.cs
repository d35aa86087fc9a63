using DesLoc.Operator.Reconciliation;
using DesLoc.Transport.Protocol;

namespace DesLoc.Operator.Trainers;

/// <summary>
/// Turns rank 0's cumulative counters into a report of the recent past: the comm fraction the adaptive controller
/// needs is that of the recent past (the link may have just slowed), not the average since the job started. The
/// window reaches back two rounds of the most frequent sync: a window of one poll (a fraction of a second) holds
/// either no sync round or one, so its fraction swings between 0 and far above the mean, and the controller would
/// chase that noise (seen in bench/adaptive.sh); a window of the longest period (DES-LOC's Kv = 6 Kx) reacts too late.
/// </summary>
internal sealed class StatusWindow
{
    private readonly List<StatusReply> _history = [];

    public TrainerReport Next(StatusReply reply)
    {
        // A restarted rank 0 starts its counters again; then the cumulative values are the window.
        if (_history.Count > 0 && (reply.SyncSeconds < _history[^1].SyncSeconds || reply.ComputeSeconds < _history[^1].ComputeSeconds))
        {
            _history.Clear();
        }

        long span = reply.SyncPeriods.Count > 0 ? 2L * reply.SyncPeriods.Values.Min() : 1;
        int start = _history.FindLastIndex(h => reply.Step - h.Step >= span);
        StatusReply? origin = start >= 0 ? _history[start] : _history.FirstOrDefault();
        if (start > 0)
        {
            _history.RemoveRange(0, start);   // older replies are never a window's start again
        }

        double sync = reply.SyncSeconds - (origin?.SyncSeconds ?? 0);
        double compute = reply.ComputeSeconds - (origin?.ComputeSeconds ?? 0);
        _history.Add(reply);
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
