#!/usr/bin/env bash
# HOG + linear classifier pipelines on full Fashion-MNIST, SharpVision against scikit-image + scikit-learn, in one run.
#   bash bench/hog_pipeline.sh      # needs dataset-fashion-mnist, python3-skimage, python3-sklearn
# Ours: `sharpvision train --features hog` (9 orientations, 4×4 cells, 2×2 blocks, L2-Hys) with --model svm and --model
# mlp, all 60,000 training images, 2 threads, feature cache disabled (a fresh SHARPVISION_CACHE folder), so the time
# covers extraction of all 70,000 images + standardization + training + prediction. Peer: classic_peers.py hog
# (skimage.feature.hog on 70,000 images, then LinearSVC(C=0.1)).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/../shared/bench/peers}"
out="$(mktemp -d)"
"$root/sharpvision" --help >/dev/null   # builds once
for model in svm mlp; do
  SHARPVISION_CACHE="$out/cache-$model" "$root/sharpvision" train --dataset fashion-mnist --model "$model" --features hog --validation-fraction 0 \
    --threads 2 --out "$out/$model" --json > "$out/$model.json"
done
echo "== scikit-image + scikit-learn (classic_peers.py hog)" >&2
(cd "$peers" && OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 classic_peers.py hog) | tee "$out/peer.txt" >&2
/usr/bin/python3 - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
peer = open(f"{out}/peer.txt").read()
hog = float(re.search(r"skimage HOG .*?\s([\d.]+) s", peer).group(1))
svc = re.search(r"LinearSVC on HOG\s+([\d.]+) s\s+acc=([\d.]+)", peer)
svc_t, svc_acc = float(svc.group(1)), float(svc.group(2))
print(f"\npeer: skimage HOG {hog:.1f} s ({hog/70000*1e6:.0f} µs/image) + LinearSVC {svc_t:.1f} s = {hog+svc_t:.1f} s, accuracy {svc_acc:.4f}")
for model in ("svm", "mlp"):
    o = json.load(open(f"{out}/{model}.json"))
    t = o["timings_s"]
    print(f"ours hog + {model}: load+extract+standardize {t['load']:.1f} s, train {t['fit']:.1f} s, total {t['total']:.1f} s, accuracy {o['metrics']['test']['accuracy']:.4f}"
          + (f"  → {(hog+svc_t)/t['total']:.1f}x faster end to end" if model == "svm" else ""))
PY
