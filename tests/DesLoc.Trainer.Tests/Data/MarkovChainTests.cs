using DesLoc.Trainer.Data;

namespace DesLoc.Trainer.Tests.Data;

public sealed class MarkovChainTests
{
    private readonly MarkovChain _chain = MarkovChain.Create(vocab: 6, order: 2, sharpness: 2.0, seed: 3);

    [Fact]
    public void Stationary_IsADistributionFixedByTheTransitions()
    {
        Assert.Equal(1.0, _chain.Stationary.Sum(), 9);
        double[] next = new double[_chain.States];
        for (int s = 0; s < _chain.States; s++)
        {
            for (int t = 0; t < _chain.Vocab; t++)
            {
                next[_chain.NextState(s, t)] += _chain.Stationary[s] * _chain.Probability(s, t);
            }
        }

        for (int s = 0; s < _chain.States; s++)
        {
            Assert.Equal(_chain.Stationary[s], next[s], 9);
        }
    }

    [Fact]
    public void WindowFloor_EqualsTheTrueModelsMeanLossOnSamples()
    {
        const int Context = 12;
        double total = 0;
        long count = 0;
        long[] sequence = new long[Context + 1];
        for (int n = 0; n < 40000; n++)
        {
            var random = SplitMix64.For(9, 0, (ulong)n);
            _chain.Sample(ref random, sequence);
            total += TrueLoss(sequence);
            count += Context;
        }

        // Monte Carlo over 480k targets: standard error is well under 0.01 nats.
        Assert.Equal(_chain.WindowFloor(Context), total / count, 0.01);
        Assert.True(_chain.WindowFloor(Context) > _chain.EntropyRate());
        Assert.InRange(_chain.EntropyRate(), 0.1, Math.Log(6));
    }

    [Fact]
    public void Sample_SameStream_SameTokens()
    {
        long[] a = new long[20];
        long[] b = new long[20];
        var first = SplitMix64.For(1, 2, 3);
        var second = SplitMix64.For(1, 2, 3);

        _chain.Sample(ref first, a);
        _chain.Sample(ref second, b);

        Assert.Equal(a, b);
        Assert.All(a, t => Assert.InRange(t, 0, 5));
    }

    /// <summary>−log p of each target under the true chain, given exactly what a model sees (the preceding tokens).</summary>
    private double TrueLoss(long[] sequence)
    {
        // Targets 1..: the first has one token of context, so its best prediction is the stationary conditional.
        double loss = 0;
        double[] pair = new double[_chain.Vocab * _chain.Vocab];
        for (int s = 0; s < _chain.States; s++)
        {
            pair[s] += _chain.Stationary[s];
        }

        double first = pair[(int)(sequence[0] * _chain.Vocab + sequence[1])] / Enumerable.Range(0, _chain.Vocab).Sum(t => pair[(int)sequence[0] * _chain.Vocab + t]);
        loss -= Math.Log(first);
        for (int i = 2; i < sequence.Length; i++)
        {
            int state = (int)(sequence[i - 2] * _chain.Vocab + sequence[i - 1]);
            loss -= Math.Log(_chain.Probability(state, (int)sequence[i]));
        }

        return loss;
    }
}
