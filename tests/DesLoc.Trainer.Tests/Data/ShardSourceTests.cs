using DesLoc.Trainer.Configuration;
using DesLoc.Trainer.Data;

namespace DesLoc.Trainer.Tests.Data;

/// <summary>
/// Memory-mapped shards: each token of the test datasets is its position, so every window shows where it was read.
/// </summary>
public sealed class ShardSourceTests : IDisposable
{
    private const int Context = 8;
    private readonly ShardDatasets _datasets = new();

    public void Dispose() => _datasets.Dispose();

    [Fact]
    public void TrainBatch_ReplicasAndTheWorkersOfAReplica_ReadDisjointSequentialWindows()
    {
        // 2 replicas × 2 workers × 3 rows a worker: a replica's batch is 6 rows. Shards of 50 tokens, so windows cross them.
        const int replicas = 2, workers = 2, rows = 3, replicaBatch = workers * rows;
        using ShardSource source = Open(_datasets.Positional("d", trainTokens: 2000, validationTokens: 100, shardTokens: 50), replicas, replicaBatch);
        long regionWindows = source.RegionWindows;   // (1000 − 1) / 8 = 124
        long[] inputs = new long[rows * Context];
        long[] targets = new long[rows * Context];
        var seen = new HashSet<long>();

        for (int rank = 0; rank < replicas; rank++)
        {
            for (long index = 0; index < regionWindows / replicaBatch; index++)
            {
                for (int worker = 0; worker < workers; worker++)
                {
                    source.TrainBatch(rank, index, worker * rows, inputs, targets);
                    for (int row = 0; row < rows; row++)
                    {
                        long start = inputs[row * Context];
                        long k = (index * replicaBatch) + (worker * rows) + row;
                        Assert.Equal((rank * 1000) + (k * Context), start);   // the k-th window of the replica's region
                        Assert.Equal(Enumerable.Range(0, Context).Select(i => start + i), inputs.Skip(row * Context).Take(Context));
                        Assert.Equal(Enumerable.Range(1, Context).Select(i => start + i), targets.Skip(row * Context).Take(Context));
                        Assert.True(seen.Add(start), $"window at {start} read twice");
                    }
                }
            }
        }
    }

    [Fact]
    public void TrainBatch_PastTheRegionsLastWindow_WrapsToItsStart()
    {
        using ShardSource source = Open(_datasets.Positional("d", trainTokens: 200, validationTokens: 100, shardTokens: 64), replicas: 2, replicaBatch: 1);
        long[] first = new long[Context], again = new long[Context], targets = new long[Context];

        source.TrainBatch(1, 0, 0, first, targets);
        source.TrainBatch(1, source.RegionWindows, 0, again, targets);

        Assert.Equal(100, first[0]);
        Assert.Equal(first, again);
        Assert.Equal(12, source.RegionWindows);   // (100 − 1) / 8: the last window ends at token 97 + 1 of the region
    }

    [Fact]
    public void TrainBatch_IsAPureFunctionOfRankAndBatchIndex_AcrossOpenings()
    {
        string directory = _datasets.Positional("d", trainTokens: 3000, validationTokens: 100, shardTokens: 700);
        using ShardSource before = Open(directory, replicas: 3, replicaBatch: 4);
        using ShardSource after = Open(directory, replicas: 3, replicaBatch: 4);
        long[] a = new long[2 * Context], b = new long[2 * Context], targets = new long[2 * Context];

        // A resumed replica opens the dataset anew and draws batch 17 with no cursor: the same rows as before.
        before.TrainBatch(2, 17, 2, a, targets);
        after.TrainBatch(2, 17, 2, b, targets);

        Assert.Equal(a, b);
        Assert.Equal(before.TrainWindowStart(2, 17, 2), a[0]);
    }

    [Fact]
    public void EvalBatch_ReadsTheValidationSplitsWindowsInOrder()
    {
        using ShardSource source = Open(_datasets.Positional("d", trainTokens: 500, validationTokens: 100, shardTokens: 30, validationOffset: 40000), replicas: 1, replicaBatch: 2);
        long[] inputs = new long[2 * Context], targets = new long[2 * Context];

        source.EvalBatch(1, inputs, targets);

        Assert.Equal(40000 + (2 * Context), inputs[0]);
        Assert.Equal(40000 + (3 * Context), inputs[Context]);
        Assert.Equal(40000 + (3 * Context) + Context, targets[^1]);
    }

    [Fact]
    public void Open_MissingShard_IsRefusedNamingTheShard()
    {
        string directory = _datasets.Positional("d", trainTokens: 500, validationTokens: 100, shardTokens: 200);
        File.Delete(Path.Combine(directory, "train-000001.bin"));

        var error = Assert.Throws<ConfigurationException>(() => Open(directory, replicas: 1, replicaBatch: 1));

        Assert.Contains("spec.data.shards", error.Message);
        Assert.Contains(Path.Combine(directory, "train-000001.bin"), error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public void Open_ShardWithOneByteFlipped_IsRefusedNamingTheShard()
    {
        string directory = _datasets.Positional("d", trainTokens: 500, validationTokens: 100, shardTokens: 200);
        string shard = Path.Combine(directory, "validation-000000.bin");
        byte[] bytes = File.ReadAllBytes(shard);
        bytes[77] ^= 0x01;
        File.WriteAllBytes(shard, bytes);

        var error = Assert.Throws<ConfigurationException>(() => Open(directory, replicas: 1, replicaBatch: 1));

        Assert.Contains($"shard '{shard}' is corrupt", error.Message);
    }

    [Fact]
    public void Open_TokenizerOtherThanTheManifests_IsRefusedNamingTheManifestAndTheField()
    {
        string directory = _datasets.Positional("d", trainTokens: 500, validationTokens: 100, shardTokens: 200);

        var error = Assert.Throws<ConfigurationException>(() =>
            ShardSource.Open(directory, TokenizerNames.Bytes, modelVocab: 256, replicas: 1, replicaBatch: 1, Context, evaluates: true));

        Assert.Contains("spec.data.tokenizer is 'bytes'", error.Message);
        Assert.Contains(Path.Combine(directory, DataSpec.ManifestFile), error.Message);
    }

    [Fact]
    public void Open_TooFewTokensForEveryReplica_IsRefused()
    {
        string directory = _datasets.Positional("d", trainTokens: 30, validationTokens: 100, shardTokens: 200);

        var error = Assert.Throws<ConfigurationException>(() => Open(directory, replicas: 4, replicaBatch: 1));

        Assert.Contains("too few for 4 replicas with model.context 8", error.Message);
    }

    private static ShardSource Open(string directory, int replicas, int replicaBatch) =>
        ShardSource.Open(directory, TokenizerNames.Gpt2, TokenizerNames.VocabOf(TokenizerNames.Gpt2), replicas, replicaBatch, Context, evaluates: true);
}
