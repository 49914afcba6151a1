#!/usr/bin/env bash
# Convolutional layers of cnn2 and resnet8, forward + backward per batch of 128: SharpVision and PyTorch 1.13 in one
# run, same machine, 2 threads.
#   bash bench/conv.sh [--repeats 15]       # needs python3-torch; ROUNDS=3 by default
# The two sides alternate for ROUNDS rounds and each op keeps its best median over the rounds, so a burst of load
# from elsewhere on a shared machine hits both sides alike and is filtered out. Our convolutions run under each
# backend (SHARPVISION_CONV modes managed, onednn, auto; onednn and auto only with libdnnl2 installed). Prints every
# JSON line, then one table: ms per batch for each of our modes and for PyTorch, and torch/ours per mode (> 1: we are faster).
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
def load(path, key):
    best = {}
    for line in open(path):
        if line.startswith("{"):
            r = json.loads(line)
            k = key(r)
            if k not in best or r["median_ms"] < best[k]["median_ms"]:
                best[k] = r
    return best
ours = load(sys.argv[1], lambda r: (r["op"], r.get("conv", "-")))
torch = load(sys.argv[2], lambda r: r["op"])
modes = [m for m in ("managed", "onednn", "auto") if any(k[1] == m for k in ours)]
ops = list(dict.fromkeys(op for op, _ in ours))
def ms(op, mode):
    r = ours.get((op, mode)) or ours.get((op, "-"))
    return r["median_ms"] if r else None
print(f"\nfwd+bwd per batch of 128, 2 threads, ms (best median of {sys.argv[3]} rounds); ratio columns are torch/ours (> 1: we are faster)")
print(f"{'op':36s} " + " ".join(f"{m:>8s}" for m in modes) + f" {'torch':>8s} " + " ".join(f"{'t/' + m:>10s}" for m in modes))
sums = {m: {} for m in modes}
for op in ops:
    t = torch.get(op)
    if t is None: continue
    row = [ms(op, m) for m in modes]
    print(f"{op:36s} " + " ".join(f"{v:8.2f}" for v in row) + f" {t['median_ms']:8.2f} " + " ".join(f"{t['median_ms'] / v:10.2f}" for v in row))
    for m, v in zip(modes, row):
        for prefix in ("cnn2", "resnet8"):
            if op.startswith(prefix):
                o, p = sums[m].get(prefix, (0, 0))
                sums[m][prefix] = (o + v, p + t["median_ms"])
for prefix in ("cnn2", "resnet8"):
    row = [sums[m].get(prefix, (0, 0)) for m in modes]
    print(f"{prefix + ' rows, sum':36s} " + " ".join(f"{o:8.2f}" for o, _ in row) + f" {row[0][1]:8.2f} " + " ".join(f"{p / o:10.2f}" for o, p in row))
PY
