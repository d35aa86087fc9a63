namespace DesLoc.Trainer.Generation;

/// <summary>How the next token is drawn: temperature 0 is greedy; top-k keeps the k likeliest (0: all).</summary>
internal sealed record SamplingSettings(double Temperature, int TopK)
{
    public static SamplingSettings Greedy { get; } = new(0, 0);
}

/// <summary>The next token from one position's logits: a pure function of the logits, the settings and the random source.</summary>
internal static class Sampling
{
    public static int Next(ReadOnlySpan<float> logits, SamplingSettings settings, Random random)
    {
        if (logits.Length == 0)
        {
            throw new ArgumentException("no logits to sample from", nameof(logits));
        }

        if (settings.Temperature <= 0)
        {
            return ArgMax(logits);
        }

        // Likeliest first; a stable sort keeps the lower id first among equal logits, as ArgMax does.
        float[] values = logits.ToArray();
        int[] order = [.. Enumerable.Range(0, values.Length).OrderByDescending(i => values[i])];
        int kept = settings.TopK > 0 ? Math.Min(settings.TopK, order.Length) : order.Length;
        double max = values[order[0]];
        double[] weights = new double[kept];
        double total = 0;
        for (int i = 0; i < kept; i++)
        {
            weights[i] = Math.Exp((values[order[i]] - max) / settings.Temperature);
            total += weights[i];
        }

        double draw = random.NextDouble() * total;
        for (int i = 0; i < kept; i++)
        {
            draw -= weights[i];
            if (draw < 0)
            {
                return order[i];
            }
        }

        return order[kept - 1];
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            best = logits[i] > logits[best] ? i : best;
        }

        return best;
    }
}
