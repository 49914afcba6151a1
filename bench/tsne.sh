#!/usr/bin/env bash
# t-SNE maps of 5,000 Fashion-MNIST test images, SharpVision against scikit-learn, in one run (~1–2 min on 2 cores).
#   bash bench/tsne.sh [OUT_DIR]     # needs dataset-fashion-mnist and python3-sklearn
# Ours: `sharpvision embed` (stratified sample of the test split, pixels / 255, PCA to 50, Barnes–Hut t-SNE θ = 0.5,
# perplexity 30, 1,000 iterations, PCA init, learning rate auto, 2 threads). Peer: bench/tsne_peer.py runs scikit-learn's
# PCA(50) + TSNE with the same settings and n_jobs=2 on the same 5,000 images (read from our CSV), then scores both maps
# with one piece of code: wall times, each side's final KL and the exact KL of both maps against one common P, and
# per-class separation (share of points whose 10 nearest map neighbours are all of their class; 10-NN accuracy).
# Leaves sharpvision.svg / .csv / .json, sklearn.csv and summary.json in OUT_DIR (default: a temp folder).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
"$root/sharpvision" --help >/dev/null   # builds once
"$root/sharpvision" embed --dataset fashion-mnist --count 5000 --perplexity 30 --iterations 1000 --seed 0 --threads 2 \
  --out "$out/sharpvision.svg" --coordinates "$out/sharpvision.csv" --json > "$out/sharpvision.json"
OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 "$root/bench/tsne_peer.py" "$out" --threads 2 --perplexity 30 --iterations 1000 --seed 0
echo "files: $out" >&2
