using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Models;

/// <summary>Llama's MLP: down(silu(gate(x)) * up(x)), bias-free.</summary>
internal sealed class SwiGlu : nn.Module<Tensor, Tensor>
{
    /// <summary>Hidden sizes are rounded up to a multiple of this (Llama uses 256 at its sizes; 32 suits small models).</summary>
    public const int MultipleOf = 32;

    private readonly Linear _gate;
    private readonly Linear _up;
    private readonly Linear _down;

    public SwiGlu(string name, int dim)
        : base(name)
    {
        int hidden = HiddenSize(dim);
        _gate = nn.Linear(dim, hidden, hasBias: false);
        _up = nn.Linear(dim, hidden, hasBias: false);
        _down = nn.Linear(hidden, dim, hasBias: false);
        RegisterComponents();
    }

    /// <summary>Llama's rule: two thirds of 4·dim (so the three matrices hold about as many weights as a 4x GELU MLP's two), rounded up to <see cref="MultipleOf"/>.</summary>
    public static int HiddenSize(int dim) => (2 * 4 * dim / 3 + MultipleOf - 1) / MultipleOf * MultipleOf;

    public override Tensor forward(Tensor input) =>
        _down.call(nn.functional.silu(_gate.call(input)).mul(_up.call(input)));
}
