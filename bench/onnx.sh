#!/usr/bin/env bash
# Forward throughput of ML.NET's ImageNet ResNet-18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0), batch 32,
# 3×224×224: SharpVision's engine (the graph imported, batch norms folded) against ONNX Runtime 1.32's CPU provider on
# the same file, in one process, sides alternating per round, 2 threads each.
#   bash bench/onnx.sh [--batch 32] [--repeats 5] [--rounds 3] [--model FILE]
# Prints a JSON line per side and round, per-operator times of ours, and the best median per side with the ratio
# ours/ORT in images/s (> 1: we are faster). Name the CPU beside the figures (lscpu's model name and SIMD flags).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dotnet build "$root/bench/SharpVision.Bench" -c Release --nologo -v quiet -clp:NoSummary >&2
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'); $(grep -o -w -E 'avx2|fma|avx512f|avx512_vnni|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')" >&2
dotnet "$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll" onnx --threads 2 "$@"
