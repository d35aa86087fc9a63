using static TorchSharp.torch;

namespace DesLoc.Trainer.Models;

/// <summary>
/// Rotary position embeddings in the Llama / Hugging Face convention: a head's features are split into two halves,
/// frequency i (theta^(-2i/headDim)) turns the pair (x[i], x[i + headDim/2]) by position × frequency. The cos and sin
/// tables, [context, headDim], are computed once by the model and shared by every attention layer.
/// </summary>
internal static class RotaryEmbedding
{
    /// <summary>cos and sin of position × frequency, each [context, headDim] (the frequencies repeated over both halves).</summary>
    public static (Tensor Cos, Tensor Sin) Tables(int context, int headDim, double theta)
    {
        using var scope = NewDisposeScope();
        Tensor exponents = arange(0, headDim, 2, dtype: ScalarType.Float64).div(headDim);
        Tensor frequencies = pow(theta, exponents).reciprocal();
        Tensor angles = outer(arange(context, dtype: ScalarType.Float64), frequencies);
        Tensor both = cat([angles, angles], dim: 1);
        return (both.cos().to(ScalarType.Float32).MoveToOuterDisposeScope(), both.sin().to(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    /// <summary>Rotates x of shape [batch, heads, time, headDim] by the first time rows of the tables.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[3] / 2;
        Tensor[] halves = x.split(half, dim: 3);
        Tensor rotated = cat([halves[1].neg(), halves[0]], dim: 3);
        return x.mul(cos).add(rotated.mul(sin), DesLoc.Sync.Torch.Scalars.One);
    }
}
