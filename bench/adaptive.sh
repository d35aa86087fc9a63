#!/usr/bin/env bash
# The adaptive sync controller end to end: a DES-LOC job whose links go 1gbit -> 10mbit -> 1gbit (tc, in the
# namespaces of bench/netns.sh) while the operator's local backend adapts the periods; writes
# bench/results/adaptive.md and adaptive.png. Needs root. usage: bash bench/adaptive.sh [seconds per phase=60]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $EUID -eq 0 ]] || { echo "adaptive.sh needs root (ip netns, tc)" >&2; exit 1; }
trap 'bash bench/netns.sh down' EXIT
bash bench/netns.sh up
dotnet build -c Release bench/DesLoc.Bench -v q -nologo
nice -n 19 dotnet bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll adaptive bench/results/adaptive.md 1gbit 10mbit "${1:-60}"
