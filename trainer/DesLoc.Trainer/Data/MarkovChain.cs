namespace DesLoc.Trainer.Data;

/// <summary>
/// A seeded order-k Markov chain over V tokens with softmax(sharpness·N(0,1)) transition rows. Every row is
/// strictly positive, so the chain is ergodic and its stationary distribution over k-token states is unique.
/// Its entropy rate is the best loss any model can reach once it has seen k tokens of context.
/// </summary>
internal sealed class MarkovChain
{
    private readonly double[] _transitions; // [state, token]
    private readonly double[] _cumulative;
    private readonly double[] _stationaryCumulative;

    private MarkovChain(int vocab, int order, double[] transitions)
    {
        Vocab = vocab;
        Order = order;
        States = (int)System.Math.Pow(vocab, order);
        _transitions = transitions;
        _cumulative = new double[transitions.Length];
        for (int s = 0; s < States; s++)
        {
            double running = 0;
            for (int t = 0; t < vocab; t++)
            {
                running += transitions[s * vocab + t];
                _cumulative[s * vocab + t] = running;
            }
        }

        Stationary = ComputeStationary();
        _stationaryCumulative = new double[States];
        double total = 0;
        for (int s = 0; s < States; s++)
        {
            total += Stationary[s];
            _stationaryCumulative[s] = total;
        }
    }

    public int Vocab { get; }

    public int Order { get; }

    public int States { get; }

    public double[] Stationary { get; }

    public static MarkovChain Create(int vocab, int order, double sharpness, int seed)
    {
        int states = (int)System.Math.Pow(vocab, order);
        var random = new SplitMix64((ulong)seed);
        double[] transitions = new double[states * vocab];
        for (int s = 0; s < states; s++)
        {
            double sum = 0;
            for (int t = 0; t < vocab; t++)
            {
                double weight = System.Math.Exp(sharpness * StandardNormal(ref random));
                transitions[s * vocab + t] = weight;
                sum += weight;
            }

            for (int t = 0; t < vocab; t++)
            {
                transitions[s * vocab + t] /= sum;
            }
        }

        return new MarkovChain(vocab, order, transitions);
    }

    public double Probability(int state, int token) => _transitions[state * Vocab + token];

    public int NextState(int state, int token) => (int)(((long)state * Vocab + token) % States);

    /// <summary>H(X_t | previous k tokens) under the stationary distribution, in nats.</summary>
    public double EntropyRate()
    {
        double rate = 0;
        for (int s = 0; s < States; s++)
        {
            for (int t = 0; t < Vocab; t++)
            {
                double p = Probability(s, t);
                rate -= Stationary[s] * p * System.Math.Log(p);
            }
        }

        return rate;
    }

    /// <summary>
    /// The best mean loss over a window whose sequences start in the stationary distribution: a target that
    /// follows m &lt; k known tokens has entropy H(first m+1 tokens) − H(first m tokens); later targets have the rate.
    /// </summary>
    public double WindowFloor(int context)
    {
        double total = 0;
        for (int target = 0; target < context; target++)
        {
            int known = target + 1;
            total += known >= Order ? EntropyRate() : PrefixEntropy(known + 1) - PrefixEntropy(known);
        }

        return total / context;
    }

    /// <summary>Writes <paramref name="tokens"/>.Length tokens of a sequence that starts in the stationary distribution.</summary>
    public void Sample(ref SplitMix64 random, Span<long> tokens)
    {
        int state = Search(_stationaryCumulative, 0, States, random.NextDouble());
        int written = 0;
        for (int i = Order - 1; i >= 0 && written < tokens.Length; i--)
        {
            tokens[written++] = state / (int)System.Math.Pow(Vocab, i) % Vocab;
        }

        while (written < tokens.Length)
        {
            int token = Search(_cumulative, state * Vocab, Vocab, random.NextDouble());
            tokens[written++] = token;
            state = NextState(state, token);
        }
    }

    private double PrefixEntropy(int length)
    {
        int prefixes = (int)System.Math.Pow(Vocab, length);
        int divisor = States / prefixes;
        double[] marginal = new double[prefixes];
        for (int s = 0; s < States; s++)
        {
            marginal[s / divisor] += Stationary[s];
        }

        return -marginal.Where(p => p > 0).Sum(p => p * System.Math.Log(p));
    }

    private double[] ComputeStationary()
    {
        double[] current = Enumerable.Repeat(1.0 / States, States).ToArray();
        double[] next = new double[States];
        for (int iteration = 0; iteration < 100_000; iteration++)
        {
            Array.Clear(next);
            for (int s = 0; s < States; s++)
            {
                for (int t = 0; t < Vocab; t++)
                {
                    next[NextState(s, t)] += current[s] * Probability(s, t);
                }
            }

            double change = 0;
            for (int s = 0; s < States; s++)
            {
                change += System.Math.Abs(next[s] - current[s]);
            }

            (current, next) = (next, current);
            if (change < 1e-13)
            {
                break;
            }
        }

        return current;
    }

    private static int Search(double[] cumulative, int start, int count, double u)
    {
        for (int i = 0; i < count - 1; i++)
        {
            if (u < cumulative[start + i])
            {
                return i;
            }
        }

        return count - 1;
    }

    private static double StandardNormal(ref SplitMix64 random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return System.Math.Sqrt(-2.0 * System.Math.Log(u1)) * System.Math.Cos(2 * System.Math.PI * u2);
    }
}
