#!/usr/bin/env bash
# k-NN on full Fashion-MNIST, SharpVision and its peers measured in one run, same machine, 2 threads.
#   bash bench/knn.sh            # needs Debian's dataset-fashion-mnist and python3-sklearn
# Prints one JSON line per SharpVision row and the peers' own lines, then the ratios.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/bench/peers}"
out="$(mktemp -d)"
dotnet build "$root/bench/SharpVision.Bench" -c Release --nologo -v quiet -clp:NoSummary >&2
echo "== SharpVision (median of 3 after a warm-up)" >&2
dotnet "$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll" knn --repeats 3 --threads 2 | tee "$out/ours.jsonl"
echo "== scikit-learn brute force (classic_peers.py knn) and the lecture's numpy loop (naive)" >&2
(cd "$peers" && OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 classic_peers.py knn naive) | tee "$out/peers.txt"
/usr/bin/python3 - "$out/ours.jsonl" "$out/peers.txt" <<'PY'
import json, re, sys
ours = {json.loads(l)["bench"].replace("sharpvision kNN ", ""): json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")}
print("\nsetting                 sharpvision ms/query   peer ms/query   speed-up   acc (ours / peer)")
for line in open(sys.argv[2]):
    m = re.match(r"sklearn kNN brute (\w+) k=(\d+), (\d+) queries\s+([\d.]+) s\s+acc=([\d.]+) per-query=([\d.]+) ms", line)
    if m:
        metric, k, n, secs, acc, per = m.groups()
        o = ours.get(f"{metric} k={k}")
        if o:
            print(f"{metric:9s} k={k:<3s}          {o['per_query_ms']:10.4f}        {float(per):10.3f}   {float(per)/o['per_query_ms']:7.1f}x   {o['accuracy']:.4f} / {float(acc):.4f} ({n} peer queries)")
    m = re.match(r"numpy loop 1-NN L1, (\d+) queries.*per-query=([\d.]+) ms", line)
    if m and "manhattan k=1" in ours:
        print(f"numpy loop L1 k=1        {ours['manhattan k=1']['per_query_ms']:10.4f}        {float(m.group(2)):10.3f}   {float(m.group(2))/ours['manhattan k=1']['per_query_ms']:7.1f}x")
PY
