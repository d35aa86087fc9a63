using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DesLoc.Trainer.Export;

/// <summary>
/// Our models in Hugging Face's layout: each TorchSharp parameter's name in transformers' model (llama:
/// LlamaForCausalLM; gpt: GPT2LMHeadModel, whose Conv1D layers store weights as [in, out], so ours are transposed),
/// and the config.json fields transformers reads. Our rotary embedding already rotates halves (HF's rotate_half), so
/// llama's q and k rows keep their order (no convert_llama_weights_to_hf permutation).
/// </summary>
internal static partial class HuggingFaceLayout
{
    /// <summary>The transformers name of <paramref name="ours"/>, and whether its matrix is stored transposed.</summary>
    public static (string Name, bool Transposed) NameOf(string modelType, string ours)
    {
        bool llama = modelType == ModelSpec.Llama;
        if (Block().Match(ours) is { Success: true } block
            && (llama ? s_llamaBlock : s_gptBlock).TryGetValue(block.Groups[2].Value, out (string Name, bool Transposed) inBlock))
        {
            return (inBlock.Name.Replace("{i}", block.Groups[1].Value, StringComparison.Ordinal), inBlock.Transposed);
        }

        return (llama ? s_llamaTop : s_gptTop).TryGetValue(ours, out string? top)
            ? (top, false)
            : throw new InvalidOperationException($"No Hugging Face name for {modelType} parameter '{ours}'.");
    }

    /// <summary>config.json as transformers reads it for <paramref name="model"/> with <paramref name="vocab"/> tokens.</summary>
    public static JsonObject Config(ModelSpec model, int vocab) => model.Type == ModelSpec.Llama
        ? new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["hidden_size"] = model.Dim,
            ["intermediate_size"] = ModelSpec.SwiGluHidden(model.Dim),
            ["num_attention_heads"] = model.Heads,
            ["num_key_value_heads"] = model.KvHeads ?? model.Heads,
            ["head_dim"] = model.Dim / model.Heads,
            ["num_hidden_layers"] = model.Layers,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = model.RopeTheta,
            ["vocab_size"] = vocab,
            ["max_position_embeddings"] = model.Context,
            ["tie_word_embeddings"] = model.TiedEmbeddings,
            ["attention_bias"] = false,
            ["mlp_bias"] = false,
            ["initializer_range"] = 0.02,
            ["torch_dtype"] = "float32",
        }
        : new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["model_type"] = "gpt2",
            ["n_embd"] = model.Dim,
            ["n_layer"] = model.Layers,
            ["n_head"] = model.Heads,
            ["n_inner"] = 4 * model.Dim,
            ["n_positions"] = model.Context,
            ["n_ctx"] = model.Context,
            ["vocab_size"] = vocab,
            // Ours is the exact GELU (GPT-2's own is the tanh approximation, gelu_new).
            ["activation_function"] = "gelu",
            ["layer_norm_epsilon"] = 1e-5,
            ["resid_pdrop"] = 0.0,
            ["embd_pdrop"] = 0.0,
            ["attn_pdrop"] = 0.0,
            // Our head is its own matrix with a bias; GPT2LMHeadModel's has none and drops lm_head.bias on load.
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "float32",
        };

    /// <summary>Our RmsNorm's epsilon (its default).</summary>
    public const double RmsNormEps = 1e-5;

    private static readonly Dictionary<string, string> s_llamaTop = new()
    {
        ["_tokenEmbedding.weight"] = "model.embed_tokens.weight",
        ["_finalNorm._weight"] = "model.norm.weight",
        ["_head.weight"] = "lm_head.weight",
    };

    private static readonly Dictionary<string, (string, bool)> s_llamaBlock = new()
    {
        ["_attentionNorm._weight"] = ("model.layers.{i}.input_layernorm.weight", false),
        ["_attention._query.weight"] = ("model.layers.{i}.self_attn.q_proj.weight", false),
        ["_attention._key.weight"] = ("model.layers.{i}.self_attn.k_proj.weight", false),
        ["_attention._value.weight"] = ("model.layers.{i}.self_attn.v_proj.weight", false),
        ["_attention._output.weight"] = ("model.layers.{i}.self_attn.o_proj.weight", false),
        ["_mlpNorm._weight"] = ("model.layers.{i}.post_attention_layernorm.weight", false),
        ["_mlp._gate.weight"] = ("model.layers.{i}.mlp.gate_proj.weight", false),
        ["_mlp._up.weight"] = ("model.layers.{i}.mlp.up_proj.weight", false),
        ["_mlp._down.weight"] = ("model.layers.{i}.mlp.down_proj.weight", false),
    };

    private static readonly Dictionary<string, string> s_gptTop = new()
    {
        ["_tokenEmbedding.weight"] = "transformer.wte.weight",
        ["_positionEmbedding.weight"] = "transformer.wpe.weight",
        ["_finalNorm.weight"] = "transformer.ln_f.weight",
        ["_finalNorm.bias"] = "transformer.ln_f.bias",
        ["_head.weight"] = "lm_head.weight",
        ["_head.bias"] = "lm_head.bias",
    };

    // GPT-2's Conv1D weights are [in, out]: ours (Linear, [out, in]) are transposed.
    private static readonly Dictionary<string, (string, bool)> s_gptBlock = new()
    {
        ["_attentionNorm.weight"] = ("transformer.h.{i}.ln_1.weight", false),
        ["_attentionNorm.bias"] = ("transformer.h.{i}.ln_1.bias", false),
        ["_attention._qkv.weight"] = ("transformer.h.{i}.attn.c_attn.weight", true),
        ["_attention._qkv.bias"] = ("transformer.h.{i}.attn.c_attn.bias", false),
        ["_attention._projection.weight"] = ("transformer.h.{i}.attn.c_proj.weight", true),
        ["_attention._projection.bias"] = ("transformer.h.{i}.attn.c_proj.bias", false),
        ["_mlpNorm.weight"] = ("transformer.h.{i}.ln_2.weight", false),
        ["_mlpNorm.bias"] = ("transformer.h.{i}.ln_2.bias", false),
        ["_expand.weight"] = ("transformer.h.{i}.mlp.c_fc.weight", true),
        ["_expand.bias"] = ("transformer.h.{i}.mlp.c_fc.bias", false),
        ["_contract.weight"] = ("transformer.h.{i}.mlp.c_proj.weight", true),
        ["_contract.bias"] = ("transformer.h.{i}.mlp.c_proj.bias", false),
    };

    [GeneratedRegex(@"^_blocks\.(\d+)\.(.+)$")]
    private static partial Regex Block();
}
