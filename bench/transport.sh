#!/usr/bin/env bash
# All-reduce among 2 and 4 processes (DesLoc's ring on the socket data plane, TLS off/on, 1 and more connections per
# peer; the gRPC link; a raw-TCP ring; PyTorch gloo) on loopback and, as root, between two sites over an emulated
# 1 Gbit/s link with a 50 ms round trip (bench/wan.sh, which needs /dev/net/tun); then one heal; writes
# bench/results/transport.md.
# The gloo rows need Debian's python3-torch (apt-get install python3-torch).
# usage: bash bench/transport.sh [MiB=100] [repeats=5] [streams=4] [MiB over the link=128]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/DesLoc.Bench -v q -nologo >/dev/null
wan=()
if [[ $EUID -eq 0 && -c /dev/net/tun ]]; then
  trap 'bash bench/wan.sh down' EXIT
  # Jumbo frames: at 1500 bytes the user-space delay line tops out near 800 Mbit/s on two cores.
  bash bench/wan.sh up 1000 25 9000
  wan=("1 Gbit/s each way, 50 ms round trip, queue 50 ms, MTU 9000")
fi
dotnet bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll transport "${1:-100}" "${2:-5}" bench/results/transport.md "${3:-4}" "${wan[@]}" ${wan:+"${4:-128}"}
