using DesLoc.Sync.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Models;

/// <summary>
/// A GPT-style decoder: token and learned position embeddings, pre-norm blocks, a final norm and a linear head.
/// Weights are drawn N(0, 0.02) as in GPT-2, so the same seed gives every replica the same initial model.
/// </summary>
internal sealed class Gpt : nn.Module<Tensor, Tensor>
{
    private readonly Embedding _tokenEmbedding;
    private readonly Embedding _positionEmbedding;
    private readonly ModuleList<TransformerBlock> _blocks;
    private readonly LayerNorm _finalNorm;
    private readonly Linear _head;
    private readonly long[] _positions;

    public Gpt(ModelSpec spec, int vocab)
        : base("gpt")
    {
        Vocab = vocab;
        Context = spec.Context;
        _tokenEmbedding = nn.Embedding(vocab, spec.Dim);
        _positionEmbedding = nn.Embedding(spec.Context, spec.Dim);
        _blocks = nn.ModuleList(Enumerable.Range(0, spec.Layers).Select(i => new TransformerBlock($"block{i}", spec.Dim, spec.Heads)).ToArray());
        _finalNorm = nn.LayerNorm(spec.Dim);
        _head = nn.Linear(spec.Dim, vocab);
        // Indices, not an arange per pass (that would make temporary native scalars, see Scalars), and not an int64
        // buffer: module.to(bfloat16), for bf16 training, converts every buffer.
        _positions = [.. Enumerable.Range(0, spec.Context).Select(i => (long)i)];
        RegisterComponents();
        InitializeWeights();
    }

    public int Vocab { get; }

    public int Context { get; }

    /// <summary>Logits of shape [batch, time, vocab] for tokens of shape [batch, time].</summary>
    public override Tensor forward(Tensor tokens)
    {
        Tensor positions = tensor(_positions, device: tokens.device).narrow(0, 0, tokens.shape[1]);
        Tensor x = _tokenEmbedding.call(tokens).add(_positionEmbedding.call(positions), Scalars.One);
        foreach (TransformerBlock block in _blocks)
        {
            x = block.call(x);
        }

        return _head.call(_finalNorm.call(x));
    }

    private void InitializeWeights()
    {
        using var noGrad = no_grad();
        foreach ((string name, Parameter parameter) in named_parameters())
        {
            if (name.EndsWith("bias", StringComparison.Ordinal))
            {
                parameter.zero_();
            }
            else if (parameter.dim() >= 2)
            {
                nn.init.normal_(parameter, 0, 0.02);
            }
        }
    }
}
