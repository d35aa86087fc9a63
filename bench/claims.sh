#!/usr/bin/env bash
# The papers' claims measured so that a reviewer could accept them: per source (a Markov chain with a known entropy
# floor, and tiny Shakespeare as bytes) a learning-rate sweep per method on a validation stream, then every arm on 4
# seeds on a disjoint test stream, equal tokens, paired 95 % intervals to Local Adam, a margin fixed in the script,
# a parameters-only ablation and a Pareto plot of loss against bytes. Writes bench/results/claims.md and its plots.
# usage: bash bench/claims.sh [local-steps] [seeds]   (defaults 768 4; about an hour on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/DesLoc.Bench -v q -nologo
nice -n 19 dotnet bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll claims "${1:-768}" "${2:-4}" bench/results/claims.md
