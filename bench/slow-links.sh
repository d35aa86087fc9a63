#!/usr/bin/env bash
# Wall time to a target loss per method with every replica behind an emulated link (network namespaces + tc tbf),
# at 1 Gbit/s, 50 Mbit/s and 10 Mbit/s; writes bench/results/slow-links.md. Needs root.
# usage: bash bench/slow-links.sh [steps [rate...]]   (the target loss is set on the first rate)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $EUID -eq 0 ]] || { echo "slow-links.sh needs root (ip netns, tc)" >&2; exit 1; }
trap 'bash bench/netns.sh down' EXIT
bash bench/netns.sh up
dotnet build -c Release bench/DesLoc.Bench -v q -nologo
nice -n 19 dotnet bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll slow-links "${1:-192}" bench/results/slow-links.md "${@:2}"
