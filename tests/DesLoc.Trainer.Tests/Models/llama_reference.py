"""An independent Llama forward pass in plain PyTorch, from the Hugging Face LlamaForCausalLM equations.

Usage: llama_reference.py DIR. DIR holds config.json ({"vocab", "dim", "heads", "kvHeads", "layers", "ropeTheta",
"tied", "rotary"}), weights.json ([{"name", "shape"}] in file order), weights.bin (float32 little-endian, concatenated),
tokens.json ([[int]]). Writes logits.bin (float32 little-endian, [batch, time, vocab]) to DIR.
Weight names (TorchSharp's, from the C# field names): _tokenEmbedding.weight, _blocks.{i}._{attentionNorm,mlpNorm}._weight,
_blocks.{i}._attention._{query,key,value,output}.weight, _blocks.{i}._mlp._{gate,up,down}.weight, _finalNorm._weight,
_head.weight (absent when tied).
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

directory = Path(sys.argv[1])
config = json.loads((directory / "config.json").read_text())
entries = json.loads((directory / "weights.json").read_text())
flat = np.fromfile(directory / "weights.bin", dtype="<f4")
weights, offset = {}, 0
for entry in entries:
    count = int(np.prod(entry["shape"]))
    weights[entry["name"]] = torch.from_numpy(flat[offset:offset + count].copy()).reshape(entry["shape"]).double()
    offset += count
assert offset == flat.size, "weights.bin holds more than weights.json lists"
missing = {"_tokenEmbedding.weight", "_finalNorm._weight"} - weights.keys()
assert not missing, f"no {sorted(missing)} among {sorted(weights)}"
tokens = torch.tensor(json.loads((directory / "tokens.json").read_text()), dtype=torch.long)

# Computed in float64, so the comparison measures TorchSharp's float32 error against exact arithmetic.
dim, heads, kv_heads = config["dim"], config["heads"], config["kvHeads"]
head_dim = dim // heads
eps = 1e-5


def rms_norm(x, weight):
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


batch, time = tokens.shape
inv_freq = 1.0 / (config["ropeTheta"] ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
freqs = torch.outer(torch.arange(time, dtype=torch.float64), inv_freq)
emb = torch.cat((freqs, freqs), dim=-1)
cos, sin = emb.cos(), emb.sin()


def linear(x, name):
    return x @ weights[name].T


def attention(x, prefix):
    q = linear(x, prefix + "_query.weight").view(batch, time, heads, head_dim).transpose(1, 2)
    k = linear(x, prefix + "_key.weight").view(batch, time, kv_heads, head_dim).transpose(1, 2)
    v = linear(x, prefix + "_value.weight").view(batch, time, kv_heads, head_dim).transpose(1, 2)
    if config["rotary"]:
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
    # repeat_kv: each key/value head serves heads // kv_heads consecutive query heads.
    groups = heads // kv_heads
    k = k[:, :, None, :, :].expand(batch, kv_heads, groups, time, head_dim).reshape(batch, heads, time, head_dim)
    v = v[:, :, None, :, :].expand(batch, kv_heads, groups, time, head_dim).reshape(batch, heads, time, head_dim)
    scores = q @ k.transpose(2, 3) / math.sqrt(head_dim)
    mask = torch.triu(torch.ones(time, time, dtype=torch.bool), diagonal=1)
    scores = scores.masked_fill(mask, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    return linear(out.transpose(1, 2).reshape(batch, time, dim), prefix + "_output.weight")


def mlp(x, prefix):
    gate = linear(x, prefix + "_gate.weight")
    return linear(torch.nn.functional.silu(gate) * linear(x, prefix + "_up.weight"), prefix + "_down.weight")


h = weights["_tokenEmbedding.weight"][tokens]
for i in range(config["layers"]):
    prefix = f"_blocks.{i}."
    h = h + attention(rms_norm(h, weights[prefix + "_attentionNorm._weight"]), prefix + "_attention.")
    h = h + mlp(rms_norm(h, weights[prefix + "_mlpNorm._weight"]), prefix + "_mlp.")
h = rms_norm(h, weights["_finalNorm._weight"])
head = weights["_tokenEmbedding.weight"] if config["tied"] else weights["_head.weight"]
logits = h @ head.T
logits.float().numpy().astype("<f4").tofile(directory / "logits.bin")
