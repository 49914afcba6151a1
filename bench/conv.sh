#!/usr/bin/env bash
# Convolutional layers of cnn2 and resnet8, forward + backward per batch of 128: SharpVision and PyTorch 1.13 in one
# run, same machine, 2 threads.
#   bash bench/conv.sh [--repeats 15]       # needs python3-torch; ROUNDS=3 by default
# The two sides alternate for ROUNDS rounds and each op keeps its best median over the rounds, so a burst of load
# from elsewhere on a shared machine hits both sides alike and is filtered out. Prints every JSON line, then one table:
# ms per batch, images/s, and torch/ours (> 1: we are faster).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${ROUNDS:-3}"
out="$(mktemp -d)"
dotnet build "$root/bench/SharpVision.Bench" -c Release --nologo -v quiet -clp:NoSummary >&2
for round in $(seq "$rounds"); do
    echo "== round $round: SharpVision (2 threads)" >&2
    dotnet "$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll" conv --threads 2 "$@" | tee -a "$out/ours.jsonl"
    echo "== round $round: PyTorch (bench/conv_peer.py, 2 threads)" >&2
    /usr/bin/python3 "$root/bench/conv_peer.py" "$@" | tee -a "$out/torch.jsonl"
done
/usr/bin/python3 - "$out/ours.jsonl" "$out/torch.jsonl" "$rounds" <<'PY'
import json, sys
def load(path):
    best = {}
    for line in open(path):
        if line.startswith("{"):
            r = json.loads(line)
            if r["op"] not in best or r["median_ms"] < best[r["op"]]["median_ms"]:
                best[r["op"]] = r
    return best
ours, torch = load(sys.argv[1]), load(sys.argv[2])
print(f"\nfwd+bwd per batch of 128, 2 threads, best median of {sys.argv[3]} rounds")
print(f"{'op':36s} {'ours ms':>8s} {'torch ms':>9s} {'ours img/s':>11s} {'torch img/s':>12s} {'torch/ours':>10s}")
for op, r in ours.items():
    t = torch.get(op)
    if t is not None:
        print(f"{op:36s} {r['median_ms']:8.2f} {t['median_ms']:9.2f} {r['images_per_s']:11.0f} {t['images_per_s']:12.0f} {t['median_ms'] / r['median_ms']:10.2f}")
for prefix in ("cnn2", "resnet8"):
    o = sum(r["median_ms"] for op, r in ours.items() if op.startswith(prefix) and op in torch)
    t = sum(torch[op]["median_ms"] for op in ours if op.startswith(prefix) and op in torch)
    print(f"{prefix + ' rows, sum':36s} {o:8.2f} {t:9.2f} {'':11s} {'':12s} {t / o:10.2f}")
PY
