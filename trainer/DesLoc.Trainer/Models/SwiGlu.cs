using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Models;

/// <summary>Llama's MLP: down(silu(gate(x)) * up(x)), bias-free.</summary>
internal sealed class SwiGlu : nn.Module<Tensor, Tensor>
{
    private readonly Linear _gate;
    private readonly Linear _up;
    private readonly Linear _down;

    public SwiGlu(string name, int dim)
        : base(name)
    {
        int hidden = ModelSpec.SwiGluHidden(dim);
        _gate = nn.Linear(dim, hidden, hasBias: false);
        _up = nn.Linear(dim, hidden, hasBias: false);
        _down = nn.Linear(hidden, dim, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        _down.call(nn.functional.silu(_gate.call(input)).mul(_up.call(input)));
}
