using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DesLoc.Trainer.Models;

/// <summary>
/// A Llama-style decoder: token embedding, pre-norm blocks (RMSNorm, rotary causal attention with optional
/// grouped-query heads, SwiGLU MLP), a final RMSNorm and a bias-free head, optionally tied to the token embedding.
/// Initialised as Hugging Face's LlamaForCausalLM: every linear and embedding weight N(0, 0.02), RMSNorm weights 1.
/// </summary>
internal sealed class Llama : nn.Module<Tensor, Tensor>
{
    private readonly Embedding _tokenEmbedding;
    private readonly ModuleList<LlamaBlock> _blocks;
    private readonly RmsNorm _finalNorm;
    private readonly Linear? _head;

    public Llama(ModelSpec spec, int vocab)
        : base("llama")
    {
        Vocab = vocab;
        Context = spec.Context;
        int kvHeads = spec.KvHeads ?? spec.Heads;
        _tokenEmbedding = nn.Embedding(vocab, spec.Dim);
        _blocks = nn.ModuleList(Enumerable.Range(0, spec.Layers).Select(i => new LlamaBlock($"block{i}", spec.Dim, spec.Heads, kvHeads)).ToArray());
        _finalNorm = new RmsNorm("final_norm", spec.Dim);
        // Tied: no head of its own, so the shared weight is one parameter (counted, synced and decayed once).
        _head = spec.TiedEmbeddings ? null : nn.Linear(spec.Dim, vocab, hasBias: false);
        (Tensor cos, Tensor sin) = RotaryEmbedding.Tables(spec.Context, spec.Dim / spec.Heads, spec.RopeTheta);
        register_buffer("rope_cos", cos, persistent: false);
        register_buffer("rope_sin", sin, persistent: false);
        RegisterComponents();
        InitializeWeights();
    }

    public int Vocab { get; }

    public int Context { get; }

    /// <summary>Logits of shape [batch, time, vocab] for tokens of shape [batch, time].</summary>
    public override Tensor forward(Tensor tokens)
    {
        long time = tokens.shape[1];
        // Read through get_buffer: module.to(device) replaces the buffers.
        Tensor x = _tokenEmbedding.call(tokens);
        // In the model's type (bf16 training): the tables are float32 buffers, and a float32 factor would promote q and k.
        Tensor cos = get_buffer("rope_cos")!.narrow(0, 0, time).to(x.dtype);
        Tensor sin = get_buffer("rope_sin")!.narrow(0, 0, time).to(x.dtype);
        foreach (LlamaBlock block in _blocks)
        {
            x = block.call(x, cos, sin);
        }

        x = _finalNorm.call(x);
        return _head is null ? nn.functional.linear(x, _tokenEmbedding.weight!) : _head.call(x);
    }

    private void InitializeWeights()
    {
        using var noGrad = no_grad();
        foreach ((string _, Parameter parameter) in named_parameters())
        {
            // Linear and embedding weights are the parameters of rank 2; RMSNorm weights (rank 1) keep their ones.
            if (parameter.dim() >= 2)
            {
                nn.init.normal_(parameter, 0, 0.02);
            }
        }
    }
}
