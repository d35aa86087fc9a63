using DesLoc.Sync.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Models;

/// <summary>A pre-norm decoder block: x + attn(ln(x)), then x + mlp(ln(x)) with a 4x GELU MLP.</summary>
internal sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm _attentionNorm;
    private readonly CausalSelfAttention _attention;
    private readonly LayerNorm _mlpNorm;
    private readonly Linear _expand;
    private readonly Linear _contract;

    public TransformerBlock(string name, int dim, int heads)
        : base(name)
    {
        _attentionNorm = nn.LayerNorm(dim);
        _attention = new CausalSelfAttention("attention", dim, heads);
        _mlpNorm = nn.LayerNorm(dim);
        _expand = nn.Linear(dim, 4 * dim);
        _contract = nn.Linear(4 * dim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        Tensor x = input.add(_attention.call(_attentionNorm.call(input)), Scalars.One);
        return x.add(_contract.call(nn.functional.gelu(_expand.call(_mlpNorm.call(x)))), Scalars.One);
    }
}
