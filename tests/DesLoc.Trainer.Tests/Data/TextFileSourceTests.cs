using DesLoc.Trainer.Data;

namespace DesLoc.Trainer.Tests.Data;

public sealed class TextFileSourceTests
{
    private const int Context = 8;
    private const int Batch = 4;

    // Byte value i at offset i (mod 256) tells us where every window came from.
    private static readonly byte[] s_bytes = Enumerable.Range(0, 2000).Select(i => (byte)(i / 8)).ToArray();

    [Fact]
    public void TrainBatch_EachReplicaReadsOnlyItsOwnShardOfTheFirstNinetyPercent()
    {
        var source = new TextFileSource("book.txt", s_bytes, replicas: 4, Batch, Context, seed: 1);
        long[] inputs = new long[Batch * Context];
        long[] targets = new long[Batch * Context];

        for (int rank = 0; rank < 4; rank++)
        {
            for (int index = 0; index < 50; index++)
            {
                source.TrainBatch(rank, index, 0, inputs, targets);
                long low = rank * 450 / 8;
                long high = (rank + 1) * 450 / 8;
                Assert.All(inputs.Concat(targets), token => Assert.InRange(token, low, high));
            }
        }
    }

    [Fact]
    public void EvalBatch_ReadsTheHeldOutTail_AndTargetsAreTheNextBytes()
    {
        var source = new TextFileSource("book.txt", s_bytes, replicas: 4, Batch, Context, seed: 1);
        long[] inputs = new long[Batch * Context];
        long[] targets = new long[Batch * Context];

        source.EvalBatch(0, inputs, targets);

        Assert.All(inputs, token => Assert.InRange(token, 1800 / 8, 1999 / 8));
        Assert.Equal(256, source.Vocab);
        Assert.Null(source.EntropyFloor);
    }
}
