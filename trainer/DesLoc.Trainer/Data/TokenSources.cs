
namespace DesLoc.Trainer.Data;

internal static class TokenSources
{
    /// <summary>The source a (validated) spec names: its text file, or its synthetic chain (the default).</summary>
    public static ITokenSource Create(JobSpec spec)
    {
        // A replica's batch: every worker's micro-batches side by side.
        int replicaBatch = spec.Training.BatchSize * spec.Training.MicroBatches * spec.WorkersPerReplica;
        if (spec.Data.Path is { } path)
        {
            byte[] bytes = File.ReadAllBytes(path);
            return new TextFileSource(path, bytes, spec.Replicas, replicaBatch, spec.Model.Context, spec.Training.Seed);
        }

        SyntheticSpec synthetic = spec.Data.Synthetic ?? new SyntheticSpec();
        MarkovChain chain = MarkovChain.Create(synthetic.Vocab, synthetic.Order, synthetic.Sharpness, synthetic.Seed);
        return new MarkovSource(chain, replicaBatch, spec.Model.Context, spec.Training.Seed);
    }
}
