"""PyTorch's tokens/s for the same gpt and llama the C# bench trains (bench/DesLoc.Bench/Throughput), side by side.

Usage: tokens_per_second.py STEPS WARMUP DIM LAYERS CONTEXT BATCH OUT.json. Same shapes (4 heads, vocab 256), the same step (forward, float32 cross-entropy, backward, global-norm clip 1.0, AdamW), fp32 and bf16, 1 and 2
threads. bf16 is PyTorch's CPU autocast (float32 weights and AdamW state, matmuls in bfloat16), the equivalent of the
C# trainer's bfloat16 copy beside float32 master weights. Writes {"gpt/fp32/1": tokens_per_s, ..., "version": x.y}.
"""
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

DIM, LAYERS, CONTEXT, BATCH = (int(a) for a in sys.argv[3:7]) if len(sys.argv) > 6 else (256, 4, 256, 8)
HEADS, VOCAB = 4, 256


def causal_attention(q, k, v):
    # torch 1.13 has no fused scaled_dot_product_attention: the plain masked softmax.
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    mask = torch.triu(torch.ones(q.shape[-2], q.shape[-2], dtype=torch.bool), diagonal=1)
    return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ v


class GptBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention_norm, self.mlp_norm = nn.LayerNorm(DIM), nn.LayerNorm(DIM)
        self.qkv, self.projection = nn.Linear(DIM, 3 * DIM), nn.Linear(DIM, DIM)
        self.expand, self.contract = nn.Linear(DIM, 4 * DIM), nn.Linear(4 * DIM, DIM)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = (z.view(b, t, HEADS, d // HEADS).transpose(1, 2) for z in self.qkv(self.attention_norm(x)).split(d, dim=2))
        x = x + self.projection(causal_attention(q, k, v).transpose(1, 2).reshape(b, t, d))
        return x + self.contract(F.gelu(self.expand(self.mlp_norm(x))))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(VOCAB, DIM), nn.Embedding(CONTEXT, DIM)
        self.blocks = nn.ModuleList(GptBlock() for _ in range(LAYERS))
        self.norm, self.head = nn.LayerNorm(DIM), nn.Linear(DIM, VOCAB)

    def forward(self, tokens):
        x = self.tokens(tokens) + self.positions(torch.arange(tokens.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


class RmsNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(DIM))

    def forward(self, x):
        y = x.float()
        return (y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + 1e-5)).to(x.dtype) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LlamaBlock(nn.Module):
    def __init__(self):
        super().__init__()
        hidden = ((2 * 4 * DIM // 3) + 31) // 32 * 32   # ModelSpec.SwiGluHidden
        self.attention_norm, self.mlp_norm = RmsNorm(), RmsNorm()
        self.query, self.key, self.value, self.output = (nn.Linear(DIM, DIM, bias=False) for _ in range(4))
        self.gate, self.up, self.down = nn.Linear(DIM, hidden, bias=False), nn.Linear(DIM, hidden, bias=False), nn.Linear(hidden, DIM, bias=False)

    def forward(self, x, cos, sin):
        b, t, d = x.shape
        h = self.attention_norm(x)
        q, k, v = (layer(h).view(b, t, HEADS, d // HEADS).transpose(1, 2) for layer in (self.query, self.key, self.value))
        q, k = q * cos.to(q.dtype) + rotate_half(q) * sin.to(q.dtype), k * cos.to(k.dtype) + rotate_half(k) * sin.to(k.dtype)
        x = x + self.output(causal_attention(q, k, v).transpose(1, 2).reshape(b, t, d))
        h = self.mlp_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, DIM)
        self.blocks = nn.ModuleList(LlamaBlock() for _ in range(LAYERS))
        self.norm, self.head = RmsNorm(), nn.Linear(DIM, VOCAB, bias=False)
        head_dim = DIM // HEADS
        frequencies = 1.0 / (10000 ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
        angles = torch.outer(torch.arange(CONTEXT, dtype=torch.float64), frequencies)
        both = torch.cat((angles, angles), dim=-1)
        self.cos, self.sin = both.cos().float(), both.sin().float()

    def forward(self, tokens):
        x = self.tokens(tokens)
        for block in self.blocks:
            x = block(x, self.cos, self.sin)
        return self.head(self.norm(x))


def tokens_per_second(model_type, precision, threads, steps, warmup, corpus):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = Gpt() if model_type == "gpt" else Llama()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    generator = torch.Generator().manual_seed(1)
    started = None
    for step in range(steps + warmup):
        if step == warmup:
            started = time.perf_counter()
        starts = torch.randint(0, corpus.numel() - CONTEXT - 1, (BATCH,), generator=generator)
        rows = torch.stack([corpus[s:s + CONTEXT + 1] for s in starts.tolist()])
        inputs, targets = rows[:, :-1], rows[:, 1:]
        optimizer.zero_grad(set_to_none=False)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = model(inputs)
        loss = F.cross_entropy(logits.float().reshape(-1, VOCAB), targets.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return steps * BATCH * CONTEXT / (time.perf_counter() - started)


def main():
    steps, warmup, output = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[7])
    corpus = torch.tensor(list(Path(__file__).with_name("data").joinpath("tinyshakespeare-32k.txt").read_bytes()), dtype=torch.long)
    # Debian's torch calls whatever libblas.so.3 the alternatives system picks; netlib's reference BLAS is unoptimised.
    blas = Path("/etc/alternatives/libblas.so.3-x86_64-linux-gnu")
    reference_blas = blas.exists() and blas.resolve().parent.name == "blas"
    results = {"version": float(".".join(torch.__version__.split(".")[:2])), "reference_blas": float(reference_blas)}
    for model_type in ("gpt", "llama"):
        for threads in (1, 2):
            for precision in ("fp32", "bf16"):
                key = f"{model_type}/{precision}/{threads}"
                results[key] = tokens_per_second(model_type, precision, threads, steps, warmup, corpus)
                print(f"PyTorch {key}: {results[key]:.0f} tokens/s", flush=True)
    output.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
