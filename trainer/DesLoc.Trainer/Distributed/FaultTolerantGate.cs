using DesLoc.Sync.Algorithms;
using DesLoc.Sync.State;
using DesLoc.Trainer.Checkpoints;
using DesLoc.Trainer.Training;
using DesLoc.Transport.Collectives;
using DesLoc.Transport.Membership;
using DesLoc.Transport.Protocol;
using Microsoft.Extensions.Logging;

namespace DesLoc.Trainer.Distributed;

/// <summary>
/// The gate between replica processes. Before an exchange the replica snapshots its state (published for a
/// joiner to heal from) and waits for a quorum; after it, the quorum votes. A round commits only if every member
/// completed it; otherwise every member restores its snapshot and the round is redone with a new quorum, so no
/// replica ever keeps a half-reduced tensor. A replica the coordinator finds behind (or just restarted) takes a
/// donor's state instead and continues from the donor's position in the same quorum.
/// </summary>
internal sealed class FaultTolerantGate(
    int rank,
    MembershipClient membership,
    WorkerRings rings,
    CheckpointStore? checkpoints,
    int checkpointEverySteps,
    ILogger logger) : ISyncGate
{
    private readonly Lock _gate = new();
    private TaskCompletionSource<StateBundle> _published = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private QuorumReply? _admitted;

    public long Heals { get; private set; }

    public long FailedRounds { get; private set; }

    public QuorumReply? LastQuorum { get; private set; }

    public bool Started { get; private set; }

    public async Task<ResumePoint?> StartAsync(IGatedReplica replica, CancellationToken stopping, CancellationToken cancellationToken)
    {
        var request = new QuorumRequest { Rank = rank, Joining = true };
        request.CheckpointSteps.AddRange(checkpoints?.ValidSteps() ?? []);
        (QuorumReply reply, ResumePoint? healed) = await ArriveOrHealAsync(replica, request, stopping, cancellationToken);
        LastQuorum = reply;
        Started = true;
        if (healed is null)
        {
            rings.Enter(reply);
        }

        SchedulePeriodChange(replica, reply);
        if (healed is not null)
        {
            return healed;
        }

        long resume = reply.ResumeCheckpoint == QuorumPlan.EachOwnNewest
            ? checkpoints?.ValidSteps().DefaultIfEmpty(-1).Max() ?? -1
            : reply.ResumeCheckpoint;
        if (resume >= 0 && checkpoints is not null)
        {
            replica.ImportState(checkpoints.Load(resume));
            SchedulePeriodChange(replica, reply);
            logger.ResumedFromCheckpoint(rank, resume);
            return new ResumePoint(resume + 1, null);
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            logger.StartedFresh(rank, string.Join(",", reply.Members));
        }

        return null;
    }

    public async Task<ResumePoint?> ExchangeAsync(IGatedReplica replica, long step, SyncPhase phase, Func<Task> exchange, CancellationToken stopping, CancellationToken cancellationToken)
    {
        StateBundle snapshot = replica.ExportState(new Position(step, phase));
        Publish(snapshot);
        QuorumReply quorum;
        lock (_gate)
        {
            quorum = _admitted!;
            _admitted = null;
        }

        var request = new QuorumRequest { Rank = rank, Step = step, Phase = (int)phase };
        if (quorum is null)
        {
            (quorum, ResumePoint? healed) = await ArriveOrHealAsync(replica, request, stopping, cancellationToken);
            if (healed is not null)
            {
                return healed;
            }
        }

        while (true)
        {
            LastQuorum = quorum;
            SchedulePeriodChange(replica, quorum);
            rings.Enter(quorum);
            bool completed;
            try
            {
                await exchange();
                completed = true;
            }
            catch (RoundFailedException failure)
            {
                logger.RoundFailed(step, quorum.QuorumId, failure.Message);
                completed = false;
            }

            if (await membership.CommitAsync(quorum.QuorumId, completed, cancellationToken))
            {
                return null;
            }

            if (completed)
            {
                logger.RoundFailed(step, quorum.QuorumId, "a member did not complete it");
            }

            // Someone did not complete the round: nobody keeps it. Restore and redo it with whoever is left,
            // keeping a period change that arrived with the abandoned quorum (every member keeps it alike).
            FailedRounds++;
            var change = replica.PendingPeriodChange;
            replica.ImportState(snapshot);
            if (change is { } keep)
            {
                replica.SchedulePeriods(keep.SwitchStep, keep.Periods);
            }

            (quorum, ResumePoint? healedAfterFailure) = await ArriveOrHealAsync(replica, request, stopping, cancellationToken);
            if (healedAfterFailure is not null)
            {
                return healedAfterFailure;
            }
        }
    }

    /// <summary>
    /// Arrives at the sync point; when the coordinator says to heal, fetches the donor's state. A heal that fails
    /// (the donor died mid-transfer) leaves this replica's state untouched, so it simply arrives again.
    /// </summary>
    private async Task<(QuorumReply Quorum, ResumePoint? Healed)> ArriveOrHealAsync(IGatedReplica replica, QuorumRequest request, CancellationToken stopping, CancellationToken cancellationToken)
    {
        while (true)
        {
            QuorumReply reply = await ArriveUnlessStoppingAsync(request, stopping, cancellationToken);
            if (reply.HealFrom < 0)
            {
                return (reply, null);
            }

            try
            {
                return (reply, await HealAsync(replica, reply, cancellationToken));
            }
            catch (Exception e) when (e is Grpc.Core.RpcException or InvalidDataException or IOException && !cancellationToken.IsCancellationRequested)
            {
                logger.HealFailed(rank, reply.HealFrom, e.Message);
            }
        }
    }

    /// <summary>
    /// Waits for the quorum, but gives the wait up when this replica is asked to stop: when every replica is stopped at
    /// once (suspend, Ctrl+C) a peer may have stopped before this sync point, and the round would never form.
    /// Nothing has been exchanged yet, so the replica stops with its own state.
    /// </summary>
    private async Task<QuorumReply> ArriveUnlessStoppingAsync(QuorumRequest request, CancellationToken stopping, CancellationToken cancellationToken)
    {
        using var arrival = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        try
        {
            return await membership.ArriveAsync(request, arrival.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled }
                                  && arrival.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new StoppedAtSyncPointException();
        }
    }

    public async Task<ResumePoint?> RegroupAsync(IGatedReplica replica, long step, CancellationToken stopping, CancellationToken cancellationToken)
    {
        var position = new Position(step, StepStart);
        Publish(replica.ExportState(position));
        var request = new QuorumRequest { Rank = rank, Step = step, Phase = (int)StepStart };
        (QuorumReply quorum, ResumePoint? healed) = await ArriveOrHealAsync(replica, request, stopping, cancellationToken);
        LastQuorum = quorum;
        if (healed is not null)
        {
            return healed;
        }

        rings.Enter(quorum);
        logger.Regrouped(rank, step, string.Join(",", quorum.Members));
        return null;
    }

    /// <summary>The position of a worker waiting to regroup: the start of a step, before any of its exchanges.</summary>
    private const SyncPhase StepStart = (SyncPhase)QuorumCoordinator.StepStart;

    public void StepCompleted(IGatedReplica replica, long step) => StepsCompleted(replica, step, step);

    /// <summary>A checkpoint due at any of the steps is written at the last: a sync was in flight at the others.</summary>
    public void StepsCompleted(IGatedReplica replica, long first, long last)
    {
        if (checkpoints is not null && checkpointEverySteps > 0 && last / checkpointEverySteps > (first - 1) / checkpointEverySteps)
        {
            SaveCheckpoint(replica, last);
        }
    }

    public void SaveCheckpoint(IGatedReplica replica, long step)
    {
        if (checkpoints is null || step < 1)
        {
            return;
        }

        checkpoints.Save(step, replica.ExportState(new Position(step, SyncPhase.AfterStep)));
        logger.WroteCheckpoint(step, checkpoints.Directory);
    }

    /// <summary>The state this replica published at its current sync point, serialized for a joiner.</summary>
    public async Task<byte[]> SnapshotBytesAsync(CancellationToken cancellationToken)
    {
        Task<StateBundle> published;
        lock (_gate)
        {
            published = _published.Task;
        }

        return (await published.WaitAsync(cancellationToken)).ToBytes();
    }

    private void Publish(StateBundle snapshot)
    {
        lock (_gate)
        {
            if (_published.Task.IsCompleted)
            {
                _published = new TaskCompletionSource<StateBundle>(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            _published.TrySetResult(snapshot);
        }
    }

    /// <summary>A change in a quorum reply applies from its switch step, or from the step after this sync point if that is later.</summary>
    private static void SchedulePeriodChange(IGatedReplica replica, QuorumReply reply)
    {
        if (reply.Periods.Count > 0)
        {
            replica.SchedulePeriods(Math.Max(reply.SwitchStep, reply.Step + 1), reply.Periods);
        }
    }

    private async Task<ResumePoint> HealAsync(IGatedReplica replica, QuorumReply quorum, CancellationToken cancellationToken)
    {
        byte[] bytes = await membership.FetchStateAsync(quorum.HealFrom, quorum.QuorumId, cancellationToken);
        Position position = replica.ImportState(StateBundle.FromBytes(bytes));
        SchedulePeriodChange(replica, quorum);
        Heals++;
        logger.Healed(rank, quorum.HealFrom, bytes.Length, position.Step);
        if (position.Phase == StepStart)
        {
            // Healed from a sibling regrouping at a step's start: no exchange follows in this quorum; the step is computed anew.
            rings.Enter(quorum);
            return new ResumePoint(position.Step, null);
        }

        lock (_gate)
        {
            _admitted = quorum;
        }

        return new ResumePoint(position.Step, position.Phase);
    }
}
