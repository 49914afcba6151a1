#!/usr/bin/env bash
# k-NN on full Fashion-MNIST: SharpVision once per SIMD level this CPU supports (SHARPVISION_SIMD forced), then
# scikit-learn's brute force and the lecture's numpy loop, in one run, same machine, 2 threads.
#   bash bench/knn.sh                       # needs Debian's dataset-fashion-mnist and python3-sklearn
#   SIMD_LEVELS="avx2" bash bench/knn.sh    # only some levels; SCALAR_QUERIES=N (default 500) bounds the slow scalar rows
# Prints the CPU model, its flags and the load average, one JSON line per SharpVision row (naming the kernel per metric),
# the peers' own lines, then one table per level: ms per query, ours against the peer (speed-up = peer / ours).
# The peer scripts are copies of ../shared/bench/peers (classic_peers.py knn naive). Every figure carries the CPU model
# and its SIMD flags, since the kernels, and so the ratios, differ between CPU kinds (docs/benchmarks.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/bench/peers}"
bench="$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll"
out="$(mktemp -d)"
dotnet build "$root/bench/SharpVision.Bench" -c Release --nologo -v quiet -clp:NoSummary >&2
levels="${SIMD_LEVELS:-$(dotnet "$bench" simd --levels)}"
model="$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1)"
flags="$(grep -o -w 'avx2\|fma\|avx512[a-z_0-9]*\|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//')"
echo "== machine: $model (family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p')), $(nproc) CPUs" \
  | tee "$out/machine.txt"
echo "== flags: $flags" | tee -a "$out/machine.txt"
echo "== $(dotnet "$bench" simd)" | tee -a "$out/machine.txt"
echo "== load at start: $(uptime | sed 's/.*load average: //')" | tee -a "$out/machine.txt"
for level in $levels; do
  echo "== SharpVision, SHARPVISION_SIMD=$level (median of 3 after a warm-up; scalar: 1 run on ${SCALAR_QUERIES:-500} queries)" >&2
  if [ "$level" = scalar ]; then extra=(--repeats 1 --queries "${SCALAR_QUERIES:-500}"); else extra=(--repeats 3); fi
  SHARPVISION_SIMD="$level" dotnet "$bench" knn --threads 2 "${extra[@]}" | tee -a "$out/ours.jsonl"
done
echo "== scikit-learn brute force and the lecture's numpy loop (classic_peers.py knn naive)" >&2
(cd "$peers" && OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=passive /usr/bin/python3 classic_peers.py knn naive) \
  | tee "$out/peers.txt"
echo "== load at end: $(uptime | sed 's/.*load average: //')" | tee -a "$out/machine.txt"
/usr/bin/python3 - "$out/ours.jsonl" "$out/peers.txt" "$out/machine.txt" "$model" "$flags" <<'PY'
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
peers = {}
naive = None
for line in open(sys.argv[2]):
    m = re.match(r"sklearn kNN brute (\w+) k=(\d+), (\d+) queries\s+([\d.]+) s\s+acc=([\d.]+) per-query=([\d.]+) ms", line)
    if m:
        peers[(m.group(1), m.group(2))] = (float(m.group(6)), float(m.group(5)), int(m.group(3)))
    m = re.match(r"numpy loop 1-NN L1, (\d+) queries.*per-query=([\d.]+) ms", line)
    if m:
        naive = float(m.group(2))
print()
print(open(sys.argv[3]).read().strip())
cpu = f"[{sys.argv[4]}; {sys.argv[5]}]"  # beside every figure: which CPU, which instructions
print("\nlevel        setting          kernel                 ours ms/query (queries)   sklearn ms/query (queries)   speed-up"
      "   acc ours / sklearn   CPU")
for o in rows:
    metric, k = re.match(r"sharpvision kNN (\w+) k=(\d+)", o["bench"]).groups()
    peer = peers.get((metric, k))
    if peer:
        print(f"{o['simd']:12s} {metric:9s} k={k:<3s} {o['backend']:22s} {o['per_query_ms']:10.4f} ({o['queries']:5d})"
              f"        {peer[0]:10.3f} ({peer[2]:5d})       {peer[0] / o['per_query_ms']:7.1f}x   {o['accuracy']:.4f} / {peer[1]:.4f}   {cpu}")
    if naive and metric == "manhattan" and k == "1":
        print(f"{o['simd']:12s} numpy loop L1 k=1 (lecture)        {o['per_query_ms']:10.4f}                {naive:10.3f}"
              f"              {naive / o['per_query_ms']:7.1f}x   {cpu}")
PY
