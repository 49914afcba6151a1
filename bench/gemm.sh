#!/usr/bin/env bash
# GEMM throughput, SharpVision's providers and the Python peers measured in one run, same machine, 2 threads.
#   bash bench/gemm.sh           # needs libopenblas0-pthread (our P/Invoke provider), python3-numpy and python3-torch
# Prints our JSON lines, the peers' own lines, then one table: GFLOP/s per provider and managed/OpenBLAS.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/bench/peers}"
out="$(mktemp -d)"
dotnet build "$root/bench/SharpVision.Bench" -c Release --nologo -v quiet -clp:NoSummary >&2
echo "== SharpVision (best of 5 after a warm-up, 2 threads)" >&2
dotnet "$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll" gemm --repeats 5 --threads 2 | tee "$out/ours.jsonl"
echo "== numpy and torch (gemm_peak.py, best of 5)" >&2
(cd "$peers" && OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 gemm_peak.py) | tee "$out/peers.txt"
/usr/bin/python3 - "$out/ours.jsonl" "$out/peers.txt" <<'PY'
import json, re, sys
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line)
        rows.setdefault(r["shape"], {})["managed" if r["provider"].startswith("managed") else r["provider"]] = r["gflops"]
peers = {}
for line in open(sys.argv[2]):
    m = re.match(r"n=(\d+) numpy GFLOP/s=([\d.]+) torch GFLOP/s=([\d.]+)", line)
    if m:
        peers[f"square n={m.group(1)}"] = (float(m.group(2)), float(m.group(3)))
f = lambda x: f"{x:8.1f}" if x is not None else "       -"
print("\nGFLOP/s, 2 threads          managed  openblas     numpy     torch   managed/openblas")
for shape, r in rows.items():
    man, ob = r.get("managed"), r.get("openblas")
    numpy, torch = peers.get(shape, (None, None))
    ratio = f"{man / ob:8.2f}" if man and ob else "       -"
    print(f"{shape:26s} {f(man)}  {f(ob)}  {f(numpy)}  {f(torch)}   {ratio}")
PY
