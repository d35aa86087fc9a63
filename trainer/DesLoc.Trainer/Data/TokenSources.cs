
namespace DesLoc.Trainer.Data;

internal static class TokenSources
{
    /// <summary>
    /// The source a (validated) spec names: its text file, its prepared dataset's shards (checked as they open), or its
    /// synthetic chain (the default). What is wrong with the data is a <see cref="Configuration.ConfigurationException"/>.
    /// </summary>
    public static ITokenSource Create(JobSpec spec)
    {
        // A replica's batch: every worker's micro-batches side by side.
        int replicaBatch = spec.Training.BatchSize * spec.Training.MicroBatches * spec.WorkersPerReplica;
        if (spec.Data.Path is { } path)
        {
            byte[] bytes = File.ReadAllBytes(path);
            return new TextFileSource(path, bytes, spec.Replicas, replicaBatch, spec.Model.Context, spec.Training.Seed);
        }

        if (spec.Data.Shards is { } shards)
        {
            return ShardSource.Open(shards, spec.Data.Tokenizer, spec.Model.Vocab ?? spec.Data.Vocab, spec.Replicas, replicaBatch,
                spec.Model.Context, evaluates: spec.Training.EvalBatches > 0);
        }

        SyntheticSpec synthetic = spec.Data.Synthetic ?? new SyntheticSpec();
        MarkovChain chain = MarkovChain.Create(synthetic.Vocab, synthetic.Order, synthetic.Sharpness, synthetic.Seed);
        return new MarkovSource(chain, replicaBatch, spec.Model.Context, spec.Training.Seed);
    }
}
