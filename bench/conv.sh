#!/usr/bin/env bash
# Convolutional layers of cnn2 and resnet8, forward + backward per batch of 128: SharpVision and PyTorch 1.13 in one
# run, same machine, 2 threads.
#   bash bench/conv.sh [--repeats 15]       # needs python3-torch
# Prints our JSON lines, torch's, then one table: median ms per op, images/s, and torch/ours (> 1: we are faster).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
dotnet build "$root/bench/SharpVision.Bench" -c Release --nologo -v quiet -clp:NoSummary >&2
echo "== SharpVision (median after a warm-up, 2 threads)" >&2
dotnet "$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll" conv --threads 2 "$@" | tee "$out/ours.jsonl"
echo "== PyTorch (bench/conv_peer.py, 2 threads)" >&2
/usr/bin/python3 "$root/bench/conv_peer.py" "$@" | tee "$out/torch.jsonl"
/usr/bin/python3 - "$out/ours.jsonl" "$out/torch.jsonl" <<'PY'
import json, sys
load = lambda p: {r["op"]: r for r in map(json.loads, (l for l in open(p) if l.startswith("{")))}
ours, torch = load(sys.argv[1]), load(sys.argv[2])
print(f"\n{'fwd+bwd, batch 128, 2 threads':36s} {'ours ms':>8s} {'torch ms':>9s} {'ours img/s':>11s} {'torch img/s':>12s} {'torch/ours':>10s}")
total_ours = total_torch = 0
for op, r in ours.items():
    t = torch.get(op)
    if t is None:
        continue
    print(f"{op:36s} {r['median_ms']:8.2f} {t['median_ms']:9.2f} {r['images_per_s']:11.0f} {t['images_per_s']:12.0f} {t['median_ms'] / r['median_ms']:10.2f}")
PY
