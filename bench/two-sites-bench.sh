#!/usr/bin/env bash
# Flat DDP over 4 workers on two sites against 2 replicas x 2 workers (DDP, DES-LOC, DiLoCo, DCT momentum between
# the sites); writes bench/results/two-sites.md and two-sites.png. Needs root (network namespaces, tc); cleans up.
# usage: bash bench/two-sites-bench.sh [steps [rate [delay]]]   (defaults: 192 steps, 100mbit, 20ms)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $EUID -eq 0 ]] || { echo "two-sites-bench.sh needs root (ip netns, tc)" >&2; exit 1; }
trap 'bash bench/two-sites.sh down' EXIT
wan=$(bash bench/two-sites.sh up "${2:-100mbit}" "${3:-20ms}" | sed -n 's/^wan: //p')
dotnet build -c Release bench/DesLoc.Bench -v q -nologo
nice -n 19 dotnet bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll two-sites "${1:-192}" bench/results/two-sites.md "$wan"
