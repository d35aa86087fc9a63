using DesLoc.Contract.Collectives;
using DesLoc.Sync.Algorithms;
using DesLoc.Sync.State;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Training;
using DesLoc.Transport.Collectives;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Tests.Training;

/// <summary>
/// A replica whose syncs overlap the next steps (<c>sync.overlapSteps</c>), on real training behind gates that fail a
/// round or stop the replica while a sync is in flight: it loses nothing, and keeps nothing of a round that failed.
/// </summary>
[Collection("TorchSharp")]
public sealed class OverlapTrainingTests
{
    public static TheoryData<string, AlgorithmSpec, int> Methods => new()
    {
        { "DiLoCo", new AlgorithmSpec { Type = AlgorithmType.DiLoCo, Diloco = new() { Period = 4 } }, 2 },
        { "DESLOC", new AlgorithmSpec { Type = AlgorithmType.DESLOC, Desloc = new() { Kx = 4, Ku = 8, Kv = 8 } }, 3 },
    };

    /// <summary>
    /// The transfer of the second sync (step 8) fails while in flight; the gate rolls the replica back to step 8, as the
    /// process gate does, and redoes the round: the run ends exactly as one in which nothing failed.
    /// </summary>
    [Theory]
    [MemberData(nameof(Methods))]
    public async Task SyncFailingInFlight_IsRedoneFromItsStep_EndsExactlyAsAnUninterruptedRun(string name, AlgorithmSpec algorithm, int delay)
    {
        JobSpec spec = TinyJobs.Spec(algorithm, steps: 18, replicas: 1) with { Sync = new SyncSpec { OverlapSteps = delay } };
        using ReplicaTrainer reference = Seeded(spec, new InMemoryCollectiveGroup(1)[0]);
        var failing = new FailingCollective(new InMemoryCollectiveGroup(1)[0], failCall: 2);
        using ReplicaTrainer redone = Seeded(spec, failing);
        var gate = new RollbackGate();

        await reference.RunAsync(CancellationToken.None);
        await redone.RunAsync(gate, CancellationToken.None, CancellationToken.None);

        Assert.Equal(1, gate.Failures);
        Assert.True(failing.Calls > 2, name);
        Assert.Equal(18, redone.Step);
        Assert.Equal(reference.BatchesDrawn, redone.BatchesDrawn);
        Assert.Equal(
            reference.ExportState(new Position(18, SyncPhase.AfterStep)).ToBytes(),
            redone.ExportState(new Position(18, SyncPhase.AfterStep)).ToBytes());
    }

    /// <summary>A stop asked for at a sync step waits for that sync to land: the replica stops there with a whole state.</summary>
    [Theory]
    [MemberData(nameof(Methods))]
    public async Task StopWhileASyncIsInFlight_WaitsForItsLanding_StateOfTheUninterruptedRunThere(string name, AlgorithmSpec algorithm, int delay)
    {
        JobSpec spec = TinyJobs.Spec(algorithm, steps: 18, replicas: 1) with { Sync = new SyncSpec { OverlapSteps = delay } };
        using ReplicaTrainer stopped = Seeded(spec, new InMemoryCollectiveGroup(1)[0]);
        using ReplicaTrainer reference = Seeded(spec, new InMemoryCollectiveGroup(1)[0]);
        var recorder = new RecordAt(8 + delay);

        using var stopping = new CancellationTokenSource();
        await stopped.RunAsync(new StopAtSync(8, stopping), stopping.Token, CancellationToken.None);
        await reference.RunAsync(recorder, CancellationToken.None, CancellationToken.None);

        Assert.Equal(8 + delay, stopped.Step);
        Assert.Null(stopped.Strategy.LandsAt);
        StateBundle state = stopped.ExportState(new Position(stopped.Step, SyncPhase.AfterStep));
        StateBundle expected = recorder.State!;
        Assert.True(expected.Floats("replica.params").SequenceEqual(state.Floats("replica.params")), name);
        Assert.True(expected.Floats("replica.m2").SequenceEqual(state.Floats("replica.m2")), name);
        Assert.Equal(expected.Longs("ledger.payload"), state.Longs("ledger.payload"));
    }

    /// <summary>Runs every exchange, and keeps the replica's state after <paramref name="step"/>.</summary>
    private sealed class RecordAt(long step) : InProcessGate
    {
        public StateBundle? State { get; private set; }

        public override void StepCompleted(IGatedReplica replica, long at)
        {
            if (at == step)
            {
                State = replica.ExportState(new Position(at, SyncPhase.AfterStep));
            }
        }
    }

    /// <summary>A replica built from the job's seed, so two of them start from the same model.</summary>
    private static ReplicaTrainer Seeded(JobSpec spec, ICollective collective)
    {
        random.manual_seed(spec.Training.Seed);
        return new ReplicaTrainer(spec, TokenSources.Create(spec), collective, CPU);
    }

    /// <summary>Rolls a failed round back to its snapshot and redoes it, as <c>FaultTolerantGate</c> does among survivors.</summary>
    private sealed class RollbackGate : InProcessGate
    {
        public int Failures { get; private set; }

        public override async Task<ResumePoint?> ExchangeAsync(IGatedReplica replica, long step, SyncPhase phase, Func<Task> exchange, CancellationToken stopping, CancellationToken cancellationToken)
        {
            StateBundle snapshot = replica.ExportState(new Position(step, phase));
            while (true)
            {
                try
                {
                    await exchange();
                    return null;
                }
                catch (RoundFailedException)
                {
                    Failures++;
                    replica.ImportState(snapshot);
                }
            }
        }
    }

    /// <summary>Asks the replica to stop as its sync of <paramref name="step"/> begins, then runs the exchange.</summary>
    private sealed class StopAtSync(long step, CancellationTokenSource stop) : InProcessGate
    {
        public override async Task<ResumePoint?> ExchangeAsync(IGatedReplica replica, long at, SyncPhase phase, Func<Task> exchange, CancellationToken stopping, CancellationToken cancellationToken)
        {
            if (at == step)
            {
                await stop.CancelAsync();
            }

            await exchange();
            return null;
        }
    }

    /// <summary>A collective whose <paramref name="failCall"/>-th call (from 1) fails as a ring whose peer died would.</summary>
    private sealed class FailingCollective(ICollective inner, int failCall) : ICollective
    {
        private int _calls;

        public int Calls => _calls;

        public int Rank => inner.Rank;

        public int WorldSize => inner.WorldSize;

        public ValueTask<long> AllReduceMeanAsync(Memory<float> buffer, CancellationToken cancellationToken)
        {
            FailOnCue();
            return inner.AllReduceMeanAsync(buffer, cancellationToken);
        }

        public ValueTask<long> AllReduceMeanFedBackAsync(Memory<float> buffer, Memory<float> residual, CancellationToken cancellationToken)
        {
            FailOnCue();
            return inner.AllReduceMeanFedBackAsync(buffer, residual, cancellationToken);
        }

        public ValueTask<GatherResult> AllGatherAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            FailOnCue();
            return inner.AllGatherAsync(payload, cancellationToken);
        }

        public ValueTask<long> BroadcastAsync(Memory<float> buffer, int root, CancellationToken cancellationToken)
        {
            FailOnCue();
            return inner.BroadcastAsync(buffer, root, cancellationToken);
        }

        private void FailOnCue()
        {
            if (Interlocked.Increment(ref _calls) == failCall)
            {
                throw new RoundFailedException("A peer died mid-round.");
            }
        }
    }
}
