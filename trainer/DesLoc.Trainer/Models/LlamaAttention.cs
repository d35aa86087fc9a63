using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Models;

/// <summary>
/// Llama's causal self-attention: bias-free projections, rotary embeddings on queries and keys, and grouped-query
/// attention (each of the kvHeads key/value heads serves heads / kvHeads consecutive query heads, as Hugging Face's
/// repeat_kv arranges them).
/// </summary>
internal sealed class LlamaAttention : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear _query;
    private readonly Linear _key;
    private readonly Linear _value;
    private readonly Linear _output;
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;

    public LlamaAttention(string name, int dim, int heads, int kvHeads)
        : base(name)
    {
        _heads = heads;
        _kvHeads = kvHeads;
        _headDim = dim / heads;
        _query = nn.Linear(dim, heads * _headDim, hasBias: false);
        _key = nn.Linear(dim, kvHeads * _headDim, hasBias: false);
        _value = nn.Linear(dim, kvHeads * _headDim, hasBias: false);
        _output = nn.Linear(heads * _headDim, dim, hasBias: false);
        RegisterComponents();
    }

    /// <summary>x is [batch, time, dim]; cos and sin are [time, headDim].</summary>
    public override Tensor forward(Tensor x, Tensor cos, Tensor sin)
    {
        long batch = x.shape[0];
        long time = x.shape[1];
        Tensor Heads(Tensor t, int count) => t.view(batch, time, count, _headDim).transpose(1, 2);
        Tensor query = RotaryEmbedding.Apply(Heads(_query.call(x), _heads), cos, sin);
        Tensor key = RotaryEmbedding.Apply(Heads(_key.call(x), _kvHeads), cos, sin);
        Tensor value = Heads(_value.call(x), _kvHeads);
        if (_kvHeads != _heads)
        {
            key = key.repeat_interleave(_heads / _kvHeads, dim: 1);
            value = value.repeat_interleave(_heads / _kvHeads, dim: 1);
        }

        // TorchSharp 0.107 spells the causal flag `is_casual`.
        Tensor attended = nn.functional.scaled_dot_product_attention(query, key, value, is_casual: true);
        return _output.call(attended.transpose(1, 2).contiguous().view(batch, time, _heads * _headDim));
    }
}
