using DesLoc.Sync.Algorithms;
using DesLoc.Sync.State;
using DesLoc.Trainer.Configuration;
using DesLoc.Trainer.Data;
using DesLoc.Trainer.Tests.Training;
using DesLoc.Trainer.Training;
using DesLoc.Transport.Collectives;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Tests.Data;

/// <summary>Trainers on token shards: refused before training when the data is bad, and on their own stream after a restore.</summary>
[Collection("TorchSharp")]
public sealed class ShardTrainingTests : IDisposable
{
    private const int Steps = 14;
    private readonly ShardDatasets _datasets = new();

    public void Dispose() => _datasets.Dispose();

    [Fact]
    public void InProcessJob_CorruptShard_IsRefusedBeforeTraining()
    {
        string directory = _datasets.Positional("d", trainTokens: 5000, validationTokens: 500, shardTokens: 1000, tokenizer: TokenizerNames.Bytes);
        string shard = Path.Combine(directory, "train-000003.bin");
        byte[] bytes = File.ReadAllBytes(shard);
        bytes[0] ^= 0x80;
        File.WriteAllBytes(shard, bytes);
        JobSpec spec = Spec(directory);

        Preflight.ThrowIfInvalid(spec);   // the spec is fine: the data is refused as it opens, before any step
        var error = Assert.Throws<ConfigurationException>(() => new InProcessJob(spec, CPU));

        Assert.Contains($"shard '{shard}' is corrupt", error.Message);
    }

    /// <summary>
    /// Two PALSGD replicas (each its own coin per step, so they draw batches at different steps) run <see cref="Steps"/>
    /// steps. A fresh rank-0 trainer given the state at step k, its own (a checkpoint) or its peer's (a heal), must draw
    /// at step k + 1 exactly what rank 0 drew there.
    /// </summary>
    [Theory]
    [InlineData(0)]   // resumed from its own checkpoint
    [InlineData(1)]   // healed from its peer
    public async Task ARestoredReplica_DrawsAtTheNextStepTheBatchTheUninterruptedRunDrew(int donor)
    {
        JobSpec spec = Spec(_datasets.Positional("d", trainTokens: 20000, validationTokens: 500, shardTokens: 3000, tokenizer: TokenizerNames.Bytes));
        using ITokenSource shards = TokenSources.Create(spec);
        var uninterrupted = new RecordingSource(shards);
        InMemoryCollectiveGroup group = new(2);
        Capture[] captures = [new(), new()];
        ReplicaTrainer[] replicas = [.. Enumerable.Range(0, 2).Select(rank =>
        {
            random.manual_seed(spec.Training.Seed);
            return new ReplicaTrainer(spec, uninterrupted, group[rank], CPU);
        })];
        try
        {
            await Task.WhenAll(replicas.Select((r, rank) => Task.Run(() => r.RunAsync(captures[rank], CancellationToken.None, CancellationToken.None))))
                .WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            foreach (ReplicaTrainer replica in replicas)
            {
                replica.Dispose();
            }
        }

        // A step k after which rank 0 takes a gradient step, and by which the two replicas have drawn different counts.
        long k = Enumerable.Range(1, Steps - 1).Select(s => (long)s)
            .First(s => captures[0].Drawn[s + 1] == captures[0].Drawn[s] + 1 && captures[0].Drawn[s] != captures[1].Drawn[s]);
        long next = captures[0].Drawn[k];

        var restored = new RecordingSource(shards);
        random.manual_seed(spec.Training.Seed);
        using (var replica = new ReplicaTrainer(spec with { Training = spec.Training with { Steps = (int)k + 1 } }, restored, new InMemoryCollectiveGroup(2)[0], CPU))
        {
            await replica.RunAsync(new RestoreGate(captures[donor].Bundles[k]), CancellationToken.None, CancellationToken.None);
            Assert.Equal(next + 1, replica.BatchesDrawn);
        }

        Draw drawn = Assert.Single(restored.Draws);
        Draw expected = Assert.Single(uninterrupted.Draws, d => d.Rank == 0 && d.Index == next);
        Assert.Equal((0, next), (drawn.Rank, drawn.Index));
        Assert.Equal(expected.Inputs, drawn.Inputs);
    }

    /// <summary>A tiny GPT on a bytes dataset, PALSGD with a fair coin after two warm-up steps and no outer step in the run.</summary>
    private static JobSpec Spec(string shards) => new()
    {
        Replicas = 2,
        Model = new ModelSpec { Layers = 1, Dim = 16, Heads = 2, Context = 8 },
        Data = new DataSpec { Shards = shards, Tokenizer = TokenizerNames.Bytes },
        Training = new TrainingSpec { Steps = Steps, BatchSize = 2, LearningRate = 0.01, WarmupSteps = 2, EvalBatches = 0 },
        Algorithm = new AlgorithmSpec { Type = AlgorithmType.PALSGD, Palsgd = new PalsgdSettings { Probability = 0.5, Period = 1000 }, DdpWarmupSteps = 2 },
    };

    private sealed record Draw(int Rank, long Index, int FirstRow, long[] Inputs);

    /// <summary>Every batch drawn through it, in order.</summary>
    private sealed class RecordingSource(ITokenSource inner) : ITokenSource
    {
        private readonly List<Draw> _draws = [];

        public IReadOnlyList<Draw> Draws
        {
            get
            {
                lock (_draws)
                {
                    return [.. _draws];
                }
            }
        }

        public int Vocab => inner.Vocab;

        public double? EntropyFloor => inner.EntropyFloor;

        public void TrainBatch(int rank, long index, int firstRow, Span<long> inputs, Span<long> targets)
        {
            inner.TrainBatch(rank, index, firstRow, inputs, targets);
            lock (_draws)
            {
                _draws.Add(new Draw(rank, index, firstRow, inputs.ToArray()));
            }
        }

        public void EvalBatch(long index, Span<long> inputs, Span<long> targets) => inner.EvalBatch(index, inputs, targets);

        public void Dispose()
        {
            // The inner source belongs to the test.
        }
    }

    /// <summary>The in-process gate, keeping each completed step's state (as a checkpoint or a donor would send it) and its batch count.</summary>
    private sealed class Capture : InProcessGate
    {
        public Dictionary<long, byte[]> Bundles { get; } = [];

        public Dictionary<long, long> Drawn { get; } = [];

        public override void StepCompleted(IGatedReplica replica, long step)
        {
            Bundles[step] = replica.ExportState(new Position(step, SyncPhase.AfterStep)).ToBytes();
            Drawn[step] = ((ReplicaTrainer)replica).BatchesDrawn;
        }
    }

    /// <summary>Starts the replica from a state taken at the end of a step, as a checkpoint resume or a heal does.</summary>
    private sealed class RestoreGate(byte[] bundle) : InProcessGate
    {
        public override Task<ResumePoint?> StartAsync(IGatedReplica replica, CancellationToken stopping, CancellationToken cancellationToken)
        {
            Position at = replica.ImportState(StateBundle.FromBytes(bundle));
            return Task.FromResult<ResumePoint?>(new ResumePoint(at.Step + 1, null));
        }
    }
}
