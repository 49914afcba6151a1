#!/usr/bin/env bash
# HOG + linear classifier pipelines on full Fashion-MNIST, SharpVision against scikit-image + scikit-learn, in one run.
#   bash bench/hog_pipeline.sh      # needs dataset-fashion-mnist, python3-skimage, python3-sklearn
# Ours: `sharpvision train --features SPEC` (HOG: 9 orientations, 4×4 cells, 2×2 blocks, L2-Hys) with --model svm (30 epochs) on
# `hog` and `hog+pixels`, and --model mlp (the recipe below), all 60,000 training images, 2 threads, feature cache
# disabled (a fresh SHARPVISION_CACHE folder), so each time covers extraction of all 70,000 images + standardization +
# training + prediction. Peer (bench/hog_peer.py): skimage.feature.hog on the 70,000 images (+ the pixels and
# StandardScaler for hog+pixels), then LinearSVC(C=0.1) — the setting of ../shared/bench/peers/classic_peers.py hog.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PEERS="${PEERS:-$root/../shared/bench/peers}"
out="$(mktemp -d)"
mlp_recipe=(--hidden 1024 --dropout 0.5 --epochs 30)
"$root/sharpvision" --help >/dev/null   # builds once
run() { local name=$1; shift; SHARPVISION_CACHE="$out/cache-$name" "$root/sharpvision" train --dataset fashion-mnist --validation-fraction 0 \
  --threads 2 --out "$out/$name" --json "$@" > "$out/$name.json"; }
run svm-hog --model svm --features hog --epochs 30
run svm-hog+pixels --model svm --features hog+pixels --epochs 30
run mlp-hog --model mlp --features hog "${mlp_recipe[@]}"
run mlp-hog+pixels --model mlp --features hog+pixels "${mlp_recipe[@]}"
for spec in hog hog+pixels; do
  echo "== scikit-image + scikit-learn ($spec, bench/hog_peer.py)" >&2
  OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 "$root/bench/hog_peer.py" "$spec" | tee "$out/peer-$spec.txt" >&2
done
/usr/bin/python3 - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
print("pipeline            ours: extract+standardize / train / total s   accuracy  |  peer total s  accuracy  |  speed-up")
for name in ("svm-hog", "svm-hog+pixels", "mlp-hog", "mlp-hog+pixels"):
    o = json.load(open(f"{out}/{name}.json"))
    t, acc = o["timings_s"], o["metrics"]["test"]["accuracy"]
    line = f"{name:18s}  {t['load']:6.1f} / {t['fit']:6.1f} / {t['total']:6.1f}                 {acc:.4f}"
    if name.startswith("svm"):
        peer = open(f"{out}/peer-{name[4:]}.txt").read()
        total, pacc = float(re.search(r"total ([\d.]+) s", peer).group(1)), float(re.search(r"acc=([\d.]+)", peer).group(1))
        line += f"  |  {total:8.1f}      {pacc:.4f}  |  {total / t['total']:5.1f}x"
    print(line)
PY
