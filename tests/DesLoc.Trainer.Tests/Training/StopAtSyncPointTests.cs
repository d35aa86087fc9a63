using DesLoc.Sync.Algorithms;
using DesLoc.Sync.State;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Training;
using DesLoc.Transport.Collectives;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Tests.Training;

[Collection("TorchSharp")]
public sealed class StopAtSyncPointTests
{
    [Theory]
    [InlineData(AlgorithmType.DDP, SyncPhase.AfterBackward, 2)]   // the gradients of step 3 are dropped: the state is that of step 2
    [InlineData(AlgorithmType.DESLOC, SyncPhase.AfterStep, 3)]    // step 3's update is applied, only its sync is skipped
    public async Task AReplicaStoppedWhileWaitingForARound_HoldsTheStateOfItsLastWholeStep(AlgorithmType type, SyncPhase phase, int wholeSteps)
    {
        JobSpec spec = TinyJobs.Spec(new AlgorithmSpec { Type = type, Desloc = new() { Kx = 1 } }, steps: 10, replicas: 1);
        using var stopped = new ReplicaTrainer(spec, TokenSources.Create(spec), new InMemoryCollectiveGroup(1)[0], CPU);
        using var reference = new ReplicaTrainer(spec with { Training = spec.Training with { Steps = wholeSteps } }, TokenSources.Create(spec), new InMemoryCollectiveGroup(1)[0], CPU);

        using var stopping = new CancellationTokenSource();
        await stopped.RunAsync(new StopAt(3, phase, stopping), stopping.Token, CancellationToken.None);
        await reference.RunAsync(CancellationToken.None);

        Assert.Equal(wholeSteps, stopped.Step);
        StateBundle state = stopped.ExportState(new Position(stopped.Step, SyncPhase.AfterStep));
        StateBundle expected = reference.ExportState(new Position(reference.Step, SyncPhase.AfterStep));
        // A resumed replica draws its next batch where a replica that ran only the whole steps would.
        Assert.Equal(reference.BatchesDrawn, stopped.BatchesDrawn);
        Assert.Equal(expected.Scalar("replica.updates"), state.Scalar("replica.updates"));
    }

    /// <summary>A gate whose round at (step, phase) cannot form while the replica is asked to stop.</summary>
    private sealed class StopAt(long step, SyncPhase phase, CancellationTokenSource stop) : InProcessGate
    {
        public override async Task<ResumePoint?> ExchangeAsync(IGatedReplica replica, long at, SyncPhase atPhase, Func<Task> exchange, CancellationToken stopping, CancellationToken cancellationToken)
        {
            if ((at, atPhase) == (step, phase))
            {
                await stop.CancelAsync();
                throw new StoppedAtSyncPointException();
            }

            await exchange();
            return null;
        }
    }
}
