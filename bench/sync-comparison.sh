#!/usr/bin/env bash
# Bytes, loss and speed of every sync method at equal steps; writes bench/results/sync-comparison.md.
# usage: bash bench/sync-comparison.sh [steps]   (default 1536 = one full DES-LOC Kv round at Kx = 256)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/DesLoc.Bench -- sync "${1:-1536}" bench/results/sync-comparison.md
