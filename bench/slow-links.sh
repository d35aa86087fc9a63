#!/usr/bin/env bash
# Wall time to a target loss per method with every replica behind an emulated link (network namespaces + tc tbf),
# at 1 Gbit/s, 50 Mbit/s and 10 Mbit/s; with --delay MS, every packet also takes MS one way (bench/netns.sh's delay
# line); with --overlap D, DES-LOC and DiLoCo also run with their syncs in flight for D steps. Writes
# bench/results/slow-links.md. Needs root.
# usage: bash bench/slow-links.sh [steps [rate...]] [--delay MS] [--overlap D]   (the target loss is set on the first rate)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $EUID -eq 0 ]] || { echo "slow-links.sh needs root (ip netns, tc)" >&2; exit 1; }
delay=""
args=("$@")
for i in "${!args[@]}"; do [[ ${args[$i]} == --delay ]] && delay=${args[$((i + 1))]}; done
dotnet build -c Release bench/DesLoc.Bench -v q -nologo
trap 'bash bench/netns.sh down' EXIT
bash bench/netns.sh up $delay
nice -n 19 dotnet bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll slow-links "${1:-192}" bench/results/slow-links.md "${@:2}"
