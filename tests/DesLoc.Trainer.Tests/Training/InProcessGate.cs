using DesLoc.Sync.Algorithms;
using DesLoc.Trainer.Training;

namespace DesLoc.Trainer.Tests.Training;

/// <summary>
/// The tests' gate for one in-process replica of one worker: a fresh start, every exchange run as it comes, no fast
/// tier; a test overrides only what it watches or changes.
/// </summary>
internal abstract class InProcessGate : ISyncGate
{
    public virtual Task<ResumePoint?> StartAsync(IGatedReplica replica, CancellationToken stopping, CancellationToken cancellationToken) =>
        DirectGate.Instance.StartAsync(replica, stopping, cancellationToken);

    public virtual Task<ResumePoint?> ExchangeAsync(IGatedReplica replica, long step, SyncPhase phase, Func<Task> exchange, CancellationToken stopping, CancellationToken cancellationToken) =>
        DirectGate.Instance.ExchangeAsync(replica, step, phase, exchange, stopping, cancellationToken);

    public Task<ResumePoint?> RegroupAsync(IGatedReplica replica, long step, CancellationToken stopping, CancellationToken cancellationToken) =>
        DirectGate.Instance.RegroupAsync(replica, step, stopping, cancellationToken);

    public virtual void StepCompleted(IGatedReplica replica, long step)
    {
    }
}
