namespace DesLoc.Trainer.Data;

/// <summary>
/// Training and held-out batches as pure functions of (seed, rank, batch index): no cursor to save, so a
/// replica that restarts at step t draws exactly the batches it would have drawn.
/// </summary>
internal interface ITokenSource
{
    int Vocab { get; }

    /// <summary>Inputs and next-token targets, each batch × context, row-major, for one replica's training batch.</summary>
    void TrainBatch(int rank, long index, Span<long> inputs, Span<long> targets);

    /// <summary>A held-out batch, the same for every replica.</summary>
    void EvalBatch(long index, Span<long> inputs, Span<long> targets);

    /// <summary>The lowest mean cross-entropy (nats per token) any model can reach on a window, when it is known.</summary>
    double? EntropyFloor { get; }
}
