#!/usr/bin/env bash
# Time per fine-tuning step of ML.NET's ImageNet ResNet-18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0),
# batch 32, 3×224×224: forward, cross-entropy, backward and one SGD step (Nesterov, head lr 0.01, backbone lr 0.001),
# batch norms frozen; all layers (--finetune) and the last stage + head (--finetune last). SharpVision's engine against
# PyTorch on the same weights (bench/peers/resnet18_torch.py loads the ONNX file with python3-onnx), 2 threads each,
# in one run; rounds alternate the sides, and the CPU and load are printed before each side (the machine is shared).
#   bash bench/finetune.sh [--repeats 5] [--rounds 2] [--batch 32]
# Prints a JSON line per side, scope and round; the ratio ours/PyTorch in step time (< 1: we are faster) is the median
# over rounds. Run it with nice -n 10 on a shared machine and quote the load.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
repeats=5 rounds=2 batch=32
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
dotnet build "$root/bench/SharpVision.Bench" -c Release --nologo -v quiet -clp:NoSummary >&2
cpu="$(lscpu | sed -n 's/^Model name: *//p'); $(grep -o -w -E 'avx2|fma|avx512f|avx512_vnni|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for round in $(seq "$rounds"); do
  echo "round $round, sharpvision: cpu: $cpu; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  dotnet "$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll" finetune --threads 2 --batch "$batch" --repeats "$repeats" | tee -a "$out"
  echo "round $round, pytorch: cpu: $cpu; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive /usr/bin/python3 "$root/bench/peers/finetune_peer.py" --threads 2 --batch "$batch" --repeats "$repeats" \
    | tee -a "$out"
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
for scope in ("all", "last"):
    ours = [r["step_ms_median"] for r in rows if r["side"] == "sharpvision" and r["scope"] == scope]
    theirs = [r["step_ms_median"] for r in rows if r["side"] == "pytorch" and r["scope"] == scope]
    if ours and theirs:
        ratios = [o / t for o, t in zip(ours, theirs)]
        print(json.dumps({"scope": scope, "sharpvision_step_ms": statistics.median(ours), "pytorch_step_ms": statistics.median(theirs),
                          "ratio_ours_over_pytorch": round(statistics.median(ratios), 3)}))
PY
