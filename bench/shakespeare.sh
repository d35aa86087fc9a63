#!/usr/bin/env bash
# Validation loss on tiny Shakespeare (bytes) at equal tokens: one worker with DDP against 4 replicas with Local Adam and
# DES-LOC, over seeds, with 95 % intervals; writes bench/results/shakespeare.md. Reads ../shared/data/tinyshakespeare.txt.
# usage: bash bench/shakespeare.sh [steps] [seeds]   (defaults 768 5: a multiple of Kv = 96; about 21 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/DesLoc.Bench -- shakespeare "${1:-768}" "${2:-5}" bench/results/shakespeare.md
