"""Loads a desloc-trainer export as Hugging Face transformers would, and runs it, in plain PyTorch.

Usage: hf_export_reference.py DIR. DIR holds config.json and model.safetensors (an export) and tokens.json ([[int]]).
Writes logits.bin (float32 little-endian, [batch, time, vocab]) to DIR. No transformers or safetensors package: the
file is parsed by hand (8-byte little-endian header length, JSON header, raw little-endian data), and the model is
built from transformers' tensor names and config fields only (LlamaForCausalLM: rotate_half rotary embeddings, RMSNorm,
SwiGLU, grouped-query attention by repeat_kv, tied head; GPT2LMHeadModel: learned positions, LayerNorm, Conv1D weights
[in, out], GELU). Computed in float64.
"""
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch

directory = Path(sys.argv[1])
config = json.loads((directory / "config.json").read_text())
raw = (directory / "model.safetensors").read_bytes()
(header_length,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + header_length])
data = raw[8 + header_length:]
weights = {}
for name, entry in header.items():
    if name == "__metadata__":
        continue
    assert entry["dtype"] == "F32", f"{name}: dtype {entry['dtype']}"
    begin, end = entry["data_offsets"]
    values = np.frombuffer(data[begin:end], dtype="<f4").copy()
    weights[name] = torch.from_numpy(values).reshape(entry["shape"]).double()
tokens = torch.tensor(json.loads((directory / "tokens.json").read_text()), dtype=torch.long)
batch, time = tokens.shape


def causal_attention(q, k, v):
    scores = q @ k.transpose(2, 3) / math.sqrt(q.shape[-1])
    mask = torch.triu(torch.ones(time, time, dtype=torch.bool), diagonal=1)
    return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ v


def llama():
    dim, heads, kv_heads = config["hidden_size"], config["num_attention_heads"], config["num_key_value_heads"]
    head_dim = config.get("head_dim", dim // heads)
    eps = config["rms_norm_eps"]

    def rms_norm(x, weight):
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def rotate_half(x):
        return torch.cat((-x[..., head_dim // 2:], x[..., : head_dim // 2]), dim=-1)

    inv_freq = 1.0 / (config["rope_theta"] ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    emb = torch.outer(torch.arange(time, dtype=torch.float64), inv_freq).repeat(1, 2)
    cos, sin = emb.cos(), emb.sin()

    def proj(x, name):
        return x @ weights[name].T

    h = weights["model.embed_tokens.weight"][tokens]
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms_norm(h, weights[p + "input_layernorm.weight"])
        q = proj(x, p + "self_attn.q_proj.weight").view(batch, time, heads, head_dim).transpose(1, 2)
        k = proj(x, p + "self_attn.k_proj.weight").view(batch, time, kv_heads, head_dim).transpose(1, 2)
        v = proj(x, p + "self_attn.v_proj.weight").view(batch, time, kv_heads, head_dim).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = torch.repeat_interleave(k, heads // kv_heads, dim=1)
        v = torch.repeat_interleave(v, heads // kv_heads, dim=1)
        out = causal_attention(q, k, v).transpose(1, 2).reshape(batch, time, heads * head_dim)
        h = h + proj(out, p + "self_attn.o_proj.weight")
        x = rms_norm(h, weights[p + "post_attention_layernorm.weight"])
        gated = torch.nn.functional.silu(proj(x, p + "mlp.gate_proj.weight")) * proj(x, p + "mlp.up_proj.weight")
        h = h + proj(gated, p + "mlp.down_proj.weight")
    h = rms_norm(h, weights["model.norm.weight"])
    if config["tie_word_embeddings"]:
        assert "lm_head.weight" not in weights, "a tied model stores no lm_head.weight"
        head = weights["model.embed_tokens.weight"]
    else:
        head = weights["lm_head.weight"]
    return h @ head.T


def gpt2():
    dim, heads = config["n_embd"], config["n_head"]
    eps = config["layer_norm_epsilon"]
    act = {"gelu": lambda x: torch.nn.functional.gelu(x),
           "gelu_new": lambda x: torch.nn.functional.gelu(x, approximate="tanh")}[config["activation_function"]]

    def layer_norm(x, prefix):
        return torch.nn.functional.layer_norm(x, (dim,), weights[prefix + ".weight"], weights[prefix + ".bias"], eps)

    def conv1d(x, prefix):  # transformers' Conv1D: weight [in, out]
        return x @ weights[prefix + ".weight"] + weights[prefix + ".bias"]

    def split_heads(x):
        return x.view(batch, time, heads, dim // heads).transpose(1, 2)

    h = weights["transformer.wte.weight"][tokens] + weights["transformer.wpe.weight"][torch.arange(time)]
    for i in range(config["n_layer"]):
        p = f"transformer.h.{i}."
        q, k, v = conv1d(layer_norm(h, p + "ln_1"), p + "attn.c_attn").split(dim, dim=2)
        out = causal_attention(split_heads(q), split_heads(k), split_heads(v)).transpose(1, 2).reshape(batch, time, dim)
        h = h + conv1d(out, p + "attn.c_proj")
        h = h + conv1d(act(conv1d(layer_norm(h, p + "ln_2"), p + "mlp.c_fc")), p + "mlp.c_proj")
    h = layer_norm(h, "transformer.ln_f")
    head = weights["transformer.wte.weight"] if config.get("tie_word_embeddings", True) else weights["lm_head.weight"]
    # GPT2LMHeadModel's head has no bias; ours has one, stored as lm_head.bias (transformers drops it on load).
    return h @ head.T + weights.get("lm_head.bias", 0)


logits = {"llama": llama, "gpt2": gpt2}[config["model_type"]]()
logits.float().numpy().astype("<f4").tofile(directory / "logits.bin")
