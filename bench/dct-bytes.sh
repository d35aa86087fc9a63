#!/usr/bin/env bash
# Bytes of one DCT-momentum sync against DiLoCo at W = 2 (wire bytes and the reference code's accounting), no training;
# writes bench/results/dct-bytes.md.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/DesLoc.Bench -- dct-bytes bench/results/dct-bytes.md
