#!/usr/bin/env bash
# Tokens/s of one worker training gpt and llama (dim 256, 4 layers, context 256, batch 8) at fp32 and bf16 on 1 and 2
# threads, TorchSharp beside PyTorch (Debian's python3-torch, the same architecture: bench/tokens_per_second.py), with
# the fraction of the cores' peak FLOP/s; writes bench/results/tokens-per-second.md. Run it on a quiet machine.
# Debian's torch does float32 matmuls in reference BLAS (slow): the full size takes minutes per PyTorch configuration.
# usage: bash bench/tokens-per-second.sh [steps=4] [warmup=1] [dim=256] [layers=4] [context=256] [batch=8]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-4}"
warmup="${2:-1}"
shape=("${3:-256}" "${4:-4}" "${5:-256}" "${6:-8}")
pytorch="$(mktemp)"
trap 'rm -f "$pytorch"' EXIT
/usr/bin/python3 bench/tokens_per_second.py "$steps" "$warmup" "${shape[@]}" "$pytorch"
dotnet build -c Release bench/DesLoc.Bench -v q -nologo >/dev/null
dotnet bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll tokens-per-second "$steps" "$warmup" "${shape[@]}" "$pytorch" bench/results/tokens-per-second.md
