namespace DesLoc.Trainer.Data;

/// <summary>
/// Batches of sequences from a <see cref="MarkovChain"/>; rank r draws from its own stream, evaluation from another.
/// <paramref name="batchSize"/> is a replica's batch: all its workers' rows.
/// </summary>
internal sealed class MarkovSource(MarkovChain chain, int batchSize, int context, int seed) : ITokenSource
{
    private const ulong EvalStream = ulong.MaxValue;

    public int Vocab => chain.Vocab;

    public double? EntropyFloor { get; } = chain.WindowFloor(context);

    public void TrainBatch(int rank, long index, int firstRow, Span<long> inputs, Span<long> targets) =>
        Fill((ulong)rank, index, firstRow, inputs, targets);

    public void EvalBatch(long index, Span<long> inputs, Span<long> targets) => Fill(EvalStream, index, 0, inputs, targets);

    public void Dispose()
    {
        // Nothing held open: the source is in memory.
    }

    private void Fill(ulong stream, long index, int firstRow, Span<long> inputs, Span<long> targets)
    {
        Span<long> sequence = stackalloc long[context + 1];
        int rows = inputs.Length / context;
        for (int row = 0; row < rows; row++)
        {
            var random = SplitMix64.For((ulong)seed, stream, (ulong)(index * batchSize + firstRow + row));
            chain.Sample(ref random, sequence);
            sequence[..context].CopyTo(inputs.Slice(row * context, context));
            sequence[1..].CopyTo(targets.Slice(row * context, context));
        }
    }
}
