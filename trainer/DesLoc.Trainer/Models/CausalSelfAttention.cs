using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Models;

/// <summary>Multi-head causal self-attention through libtorch's fused scaled-dot-product kernel.</summary>
internal sealed class CausalSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear _qkv;
    private readonly Linear _projection;
    private readonly int _heads;

    public CausalSelfAttention(string name, int dim, int heads)
        : base(name)
    {
        _heads = heads;
        _qkv = nn.Linear(dim, 3 * dim);
        _projection = nn.Linear(dim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        long batch = input.shape[0];
        long time = input.shape[1];
        long dim = input.shape[2];
        Tensor[] qkv = _qkv.call(input).split(dim, dim: 2);
        Tensor Heads(Tensor t) => t.view(batch, time, _heads, dim / _heads).transpose(1, 2);
        // TorchSharp 0.107 spells the causal flag `is_casual`.
        Tensor attended = nn.functional.scaled_dot_product_attention(Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]), is_casual: true);
        return _projection.call(attended.transpose(1, 2).contiguous().view(batch, time, dim));
    }
}
