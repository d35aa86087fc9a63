using DesLoc.Operator.Reconciliation;
using DesLoc.Transport.Protocol;

namespace DesLoc.Operator.Trainers;

/// <summary>
/// Turns rank 0's cumulative counters into a report over a window: the comm fraction the adaptive controller needs is
/// that of the recent past (the link may have just slowed), not the average since the job started, and the window
/// must hold whole sync rounds: a window shorter than a period may hold none and read as "no communication".
/// </summary>
internal sealed class StatusWindow
{
    private StatusReply? _start;
    private long _restartAtStep = long.MaxValue;

    /// <summary>Steps the window covers up to <paramref name="reply"/>.</summary>
    public long Steps(StatusReply reply) => reply.Step - (_start?.Step ?? reply.Step);

    public TrainerReport Observe(StatusReply reply)
    {
        // A restarted rank 0 counts from zero again; a switch to new periods starts a new regime.
        if (_start is null || reply.SyncSeconds < _start.SyncSeconds || reply.ComputeSeconds < _start.ComputeSeconds || reply.Step >= _restartAtStep)
        {
            _start = reply;
            _restartAtStep = long.MaxValue;
        }

        // An empty window (just restarted) reports the fraction since rank 0 started.
        double sync = reply.SyncSeconds - _start.SyncSeconds;
        double compute = reply.ComputeSeconds - _start.ComputeSeconds;
        return new TrainerReport(
            reply.Step,
            reply.Loss,
            reply.BytesSent.Values.Sum(),
            reply.DdpEquivalentBytes,
            reply.LinkBandwidthBytesPerSecond,
            sync + compute > 0 ? sync / (sync + compute) : reply.SyncSeconds / Math.Max(1e-9, reply.SyncSeconds + reply.ComputeSeconds),
            reply.SyncPeriods.ToDictionary(p => p.Key, p => p.Value),
            WindowSteps: reply.Step - _start.Step,
            EvalLoss: reply.EvalLoss,
            EvalStep: reply.EvalStep);
    }

    /// <summary>Starts a new window at <paramref name="reply"/> (after a decision).</summary>
    public void Restart(StatusReply reply) => _start = reply;

    /// <summary>Starts a new window once rank 0 has passed <paramref name="step"/> (new periods apply from there).</summary>
    public void RestartAt(long step) => _restartAtStep = step;
}
