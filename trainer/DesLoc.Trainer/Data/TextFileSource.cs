using DesLoc.Trainer.Configuration;

namespace DesLoc.Trainer.Data;

/// <summary>
/// A text file as bytes (vocabulary 256). The last 10% is held out for evaluation; the rest is cut into one
/// contiguous shard per replica, and each batch row is a window at a uniformly drawn offset in its shard.
/// The batch size is a replica's: all its workers' rows.
/// </summary>
internal sealed class TextFileSource : ITokenSource
{
    private const ulong EvalStream = ulong.MaxValue;
    private readonly byte[] _bytes;
    private readonly int _batchSize;
    private readonly int _context;
    private readonly int _seed;
    private readonly long _trainLength;
    private readonly long _shardLength;

    public TextFileSource(string path, byte[] bytes, int replicas, int batchSize, int context, int seed)
    {
        _bytes = bytes;
        _batchSize = batchSize;
        _context = context;
        _seed = seed;
        _trainLength = bytes.LongLength * 9 / 10;
        _shardLength = _trainLength / replicas;
        long heldOut = bytes.LongLength - _trainLength;
        if (_shardLength < context + 1 || heldOut < context + 1)
        {
            long needed = (long)(context + 1) * System.Math.Max(10, replicas * 10 / 9 + 1);
            throw new ConfigurationException(
                $"spec.data.path: '{path}' has {bytes.LongLength} bytes, too few for {replicas} replicas with model.context {context} " +
                $"(need at least {needed}); use a larger file or a shorter context.");
        }
    }

    public int Vocab => 256;

    public double? EntropyFloor => null;

    public void TrainBatch(int rank, long index, int firstRow, Span<long> inputs, Span<long> targets) =>
        Fill((ulong)rank, rank * _shardLength, _shardLength, index, firstRow, inputs, targets);

    public void EvalBatch(long index, Span<long> inputs, Span<long> targets) =>
        Fill(EvalStream, _trainLength, _bytes.LongLength - _trainLength, index, 0, inputs, targets);

    public void Dispose()
    {
        // Nothing held open: the source is in memory.
    }

    private void Fill(ulong stream, long start, long length, long index, int firstRow, Span<long> inputs, Span<long> targets)
    {
        long windows = length - _context;
        int rows = inputs.Length / _context;
        for (int row = 0; row < rows; row++)
        {
            var random = SplitMix64.For((ulong)_seed, stream, (ulong)(index * _batchSize + firstRow + row));
            long offset = start + random.NextLong(windows);
            for (int i = 0; i < _context; i++)
            {
                inputs[row * _context + i] = _bytes[offset + i];
                targets[row * _context + i] = _bytes[offset + i + 1];
            }
        }
    }
}
