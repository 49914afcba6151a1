#!/usr/bin/env bash
# Trees, boosting and the RBF SVM on full Fashion-MNIST raw pixels: SharpVision against scikit-learn (and xgboost) as
# `classic_peers.py trees kernel` runs them, in one run, 2 threads.
#   bash bench/trees.sh          # needs dataset-fashion-mnist, python3-sklearn, python3-xgboost (~10–20 min on 2 cores)
# Forest: 100 trees, gini, √d features per split. Boosting: 100 rounds, 31 leaves, learning rate 0.1. RBF SVM: C = 10,
# γ = scale, pixels / 255, the first 10,000 training images (libsvm's one-vs-one SMO on sklearn's side). Prints the CPU,
# each side's fit time and test accuracy, and ours / peer for each.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/bench/peers}"
bench="$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll"
out="$(mktemp -d)"
dotnet build "$root/bench/SharpVision.Bench" -c Release --nologo -v quiet -clp:NoSummary >&2
cpu="$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1)"
flags="$(grep -o -w 'avx2\|fma\|avx512[a-z_0-9]*\|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//')"
echo "== CPU: $cpu ($flags), $(nproc) CPUs; load at start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/machine.txt" >&2
echo "== SharpVision forest, boosting" >&2
dotnet "$bench" trees --threads 2 --only forest,boost | tee "$out/ours.jsonl" >&2
echo "== SharpVision RBF SVM, first 10,000 images" >&2
dotnet "$bench" trees --threads 2 --only svm --train-limit 10000 | tee -a "$out/ours.jsonl" >&2
echo "== scikit-learn, xgboost (classic_peers.py trees kernel)" >&2
(cd "$peers" && OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=passive /usr/bin/python3 classic_peers.py trees kernel) \
  | tee "$out/peers.txt" >&2
echo "== load at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2
cat "$out/machine.txt"
cat "$out/ours.jsonl" "$out/peers.txt"
echo "files: $out" >&2
