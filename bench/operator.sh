#!/usr/bin/env bash
# The operator at scale: N LowCommJobs of 4 replicas (and N/10 as the baseline) against the test API server;
# writes bench/results/operator.md.
# usage: bash bench/operator.sh [jobs=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/DesLoc.Bench -v q -nologo >/dev/null
dotnet bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll operator "${1:-1000}" bench/results/operator.md
