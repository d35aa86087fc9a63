#!/usr/bin/env bash
# All-reduce among 2 and 4 local processes (DesLoc's ring on the socket data plane, TLS off/on, 1 and STREAMS
# connections per peer; the gRPC link; a raw-TCP ring; PyTorch gloo) and one heal; writes bench/results/transport.md.
# The gloo rows need Debian's python3-torch (apt-get install python3-torch).
# usage: bash bench/transport.sh [MiB=100] [repeats=5] [streams=2]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/DesLoc.Bench -v q -nologo >/dev/null
dotnet bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll transport "${1:-100}" "${2:-5}" bench/results/transport.md "${3:-2}"
