#!/usr/bin/env bash
# Trees, boosting and the RBF SVM on full Fashion-MNIST raw pixels: SharpVision against scikit-learn (and xgboost) as
# `classic_peers.py trees kernel` runs them, in one run, 2 threads.
#   bash bench/trees.sh          # needs dataset-fashion-mnist, python3-sklearn, python3-xgboost (~10–20 min on 2 cores)
# Forest: 100 trees, gini, √d features per split. Boosting: 100 rounds, 31 leaves, learning rate 0.1. RBF SVM: C = 10,
# γ = scale, pixels / 255, the first 10,000 training images (libsvm's one-vs-one SMO on sklearn's side). Prints the CPU,
# each side's fit time and test accuracy, and ours / peer for each.
#   MODELS=forest,svm bash bench/trees.sh   # skip boosting: scikit-learn's forest (forest_seeds.py) and SVC only, ~3 min
#   SEEDS=5 MODELS=forest bash bench/trees.sh  # the forest over seeds 0..4 on both sides (accuracy moves ±0.002 by seed)
set -euo pipefail
models="${MODELS:-forest,boost,svm}"
seeds="${SEEDS:-1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/bench/peers}"
bench="$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll"
out="$(mktemp -d)"
dotnet build "$root/bench/SharpVision.Bench" -c Release --nologo -v quiet -clp:NoSummary >&2
cpu="$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1)"
flags="$(grep -o -w 'avx2\|fma\|avx512[a-z_0-9]*\|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//')"
echo "== CPU: $cpu ($flags), $(nproc) CPUs; load at start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/machine.txt" >&2
trees="$(echo "$models" | tr ',' '\n' | grep -x 'forest\|boost' | paste -sd, || true)"
: > "$out/ours.jsonl"
if [ -n "$trees" ]; then
  echo "== SharpVision $trees (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  dotnet "$bench" trees --threads 2 --only "$trees" --seeds "$seeds" | tee -a "$out/ours.jsonl" >&2
fi
if echo "$models" | grep -qw svm; then
  echo "== SharpVision RBF SVM, first 10,000 images (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  dotnet "$bench" trees --threads 2 --only svm --train-limit 10000 | tee -a "$out/ours.jsonl" >&2
fi
run_peer() { (cd "$peers" && OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=passive /usr/bin/python3 "$@") | tee -a "$out/peers.txt" >&2; }
: > "$out/peers.txt"
if [ "$models" = "forest,boost,svm" ] && [ "$seeds" = 1 ]; then
  echo "== scikit-learn, xgboost (classic_peers.py trees kernel; load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  run_peer classic_peers.py trees kernel
else
  if echo "$models" | grep -qw boost; then echo "== boosting peers: run without MODELS (classic_peers.py trees)" >&2; fi
  if echo "$models" | grep -qw forest; then
    echo "== scikit-learn forest, $seeds seed(s) (forest_seeds.py; load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    run_peer forest_seeds.py "$seeds"
  fi
  if echo "$models" | grep -qw svm; then
    echo "== scikit-learn SVC (classic_peers.py kernel; load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    run_peer classic_peers.py kernel
  fi
fi
echo "== load at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2
cat "$out/machine.txt"
cat "$out/ours.jsonl" "$out/peers.txt"
echo "files: $out" >&2
