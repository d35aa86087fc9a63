using static TorchSharp.torch;

namespace DesLoc.Trainer.Generation;

/// <summary>Autoregressive generation: each new token is drawn from the model's logits at the last position of the window.</summary>
internal static class TextGeneration
{
    /// <summary>
    /// <paramref name="count"/> tokens following <paramref name="prompt"/>; the model sees the last
    /// <paramref name="context"/> tokens at most (its position table's length). One dispose scope per token.
    /// </summary>
    public static IReadOnlyList<int> Continue(nn.Module<Tensor, Tensor> model, int context, IReadOnlyList<int> prompt, int count, SamplingSettings settings, Random random)
    {
        if (prompt.Count == 0)
        {
            throw new ArgumentException("the prompt has no tokens; generation needs at least one to start from", nameof(prompt));
        }

        var tokens = new List<int>(prompt);
        model.eval();
        using var noGrad = no_grad();
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            int start = Math.Max(0, tokens.Count - context);
            long[] window = [.. tokens.Skip(start).Select(t => (long)t)];
            Tensor logits = model.call(tensor(window, [1, window.Length]));
            float[] last = logits[0, -1].cpu().data<float>().ToArray();
            tokens.Add(Sampling.Next(last, settings, random));
        }

        return tokens[prompt.Count..];
    }
}
