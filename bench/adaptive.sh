#!/usr/bin/env bash
# The adaptive controller's DES-LOC policies after a tenfold link drop, theory (kv, then ku, then kx) against uniform
# (every period alike), at equal bytes: real training of 4 in-process replicas on tiny Shakespeare, the link modelled
# (no root, no namespaces); writes bench/results/adaptive.md and adaptive.png. Reads ../shared/data/tinyshakespeare.txt.
# usage: bash bench/adaptive.sh [steps=512] [seeds=2]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/DesLoc.Bench -v q -nologo
nice -n 10 dotnet bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll adaptive "${1:-512}" "${2:-2}" bench/results/adaptive.md
