namespace DesLoc.Trainer.Data;

/// <summary>
/// Training and held-out batches as pure functions of (seed, rank, batch index): no cursor to save, so a
/// replica that restarts at step t draws exactly the batches it would have drawn. Disposing releases what the source
/// holds open (a dataset's mapped shards).
/// </summary>
internal interface ITokenSource : IDisposable
{
    int Vocab { get; }

    /// <summary>
    /// Rows <paramref name="firstRow"/>.. of replica <paramref name="rank"/>'s training batch <paramref name="index"/>, as many as
    /// <paramref name="inputs"/> holds (rows × context, row-major), with next-token targets. A replica's batch is its
    /// workers' batches side by side, so worker w of W reads rows w·b.. of the same batch one worker of batch W·b would.
    /// </summary>
    void TrainBatch(int rank, long index, int firstRow, Span<long> inputs, Span<long> targets);

    /// <summary>The first rows of held-out batch <paramref name="index"/>, the same for every replica and worker.</summary>
    void EvalBatch(long index, Span<long> inputs, Span<long> targets);

    /// <summary>The lowest mean cross-entropy (nats per token) any model can reach on a window, when it is known.</summary>
    double? EntropyFloor { get; }
}
