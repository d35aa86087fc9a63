#!/usr/bin/env bash
# Every sync method as 4 real replica processes (the operator's local backend), equal steps, on the synthetic source
# and on bench/data/tinyshakespeare-32k.txt; bytes, reduction, held-out loss, gaps, wall time; the papers'
# communication claims checked; writes bench/results/comm-quality.md and its PNG plots. About 10 minutes on 2 cores.
# usage: bash bench/comm-quality.sh [steps]   (default 384: a multiple of every period, Kv = 384 at Kx = 64 included)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/DesLoc.Bench -v q -nologo
nice -n 19 dotnet bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll comm-quality "${1:-384}" bench/results/comm-quality.md bench/data/tinyshakespeare-32k.txt
