using DesLoc.Sync.Torch;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Models;

/// <summary>A Llama decoder block: x + attn(rmsnorm(x)), then x + swiglu(rmsnorm(x)).</summary>
internal sealed class LlamaBlock : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly RmsNorm _attentionNorm;
    private readonly LlamaAttention _attention;
    private readonly RmsNorm _mlpNorm;
    private readonly SwiGlu _mlp;

    public LlamaBlock(string name, int dim, int heads, int kvHeads)
        : base(name)
    {
        _attentionNorm = new RmsNorm("attention_norm", dim);
        _attention = new LlamaAttention("attention", dim, heads, kvHeads);
        _mlpNorm = new RmsNorm("mlp_norm", dim);
        _mlp = new SwiGlu("mlp", dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input, Tensor cos, Tensor sin)
    {
        Tensor x = input.add(_attention.call(_attentionNorm.call(input), cos, sin), Scalars.One);
        return x.add(_mlp.call(_mlpNorm.call(x)), Scalars.One);
    }
}
