using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Models;

/// <summary>
/// Root-mean-square normalisation as in Llama: x / sqrt(mean(x²) + eps) times a learnable per-feature weight
/// (initialised to 1), with no mean subtraction and no bias.
/// </summary>
internal sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter _weight;
    // Held for the module's life: a temporary Scalar per call could be finalized while libtorch reads it (see Scalars).
    private readonly Scalar _eps;

    public RmsNorm(string name, int dim, double eps = 1e-5)
        : base(name)
    {
        _eps = eps.ToScalar();
        _weight = new Parameter(ones(dim));
        RegisterComponents();
    }

    /// <summary>Normalises in float32 (as Hugging Face's LlamaRMSNorm), returning the input's type: bf16's mean of squares is too coarse.</summary>
    public override Tensor forward(Tensor input)
    {
        Tensor x = input.to(ScalarType.Float32);
        return x.mul(x.square().mean([-1], keepdim: true).add(_eps).rsqrt()).to(input.dtype).mul(_weight);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _eps.Dispose();
        }

        base.Dispose(disposing);
    }
}
