#!/usr/bin/env bash
# Feature extraction on all 70,000 Fashion-MNIST images, SharpVision and scikit-image measured in one run, 2 threads.
#   bash bench/features.sh          # needs Debian's dataset-fashion-mnist and python3-skimage
#   REPEATS=5 bash bench/features.sh
# 1. scikit-image's HOG on the first 1,000 test images, saved so SharpVision's values can be checked against it;
# 2. SharpVision: µs/image per extractor (median of REPEATS after a warm-up), HOG checked against step 1;
# 3. the peer's own line (classic_peers.py hog: skimage HOG over 70k images, then LinearSVC on it);
# then the HOG ratio.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/bench/peers}"
out="$(mktemp -d)"
repeats="${REPEATS:-3}"
dotnet build "$root/bench/SharpVision.Bench" -c Release --nologo -v quiet -clp:NoSummary >&2
echo "== scikit-image HOG reference values (first 1,000 test images)" >&2
(cd "$peers" && /usr/bin/python3 - "$out/hog_skimage.f32" <<'PY'
import sys, numpy as np
from fmnist import load
from skimage.feature import hog
_, _, xte, _ = load()
h = np.array([hog(im, orientations=9, pixels_per_cell=(4, 4), cells_per_block=(2, 2), block_norm="L2-Hys") for im in xte[:1000]], dtype=np.float32)
h.tofile(sys.argv[1])
PY
)
echo "== SharpVision (median of $repeats after a warm-up, 2 threads)" >&2
dotnet "$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll" features --repeats "$repeats" --threads 2 --check "$out/hog_skimage.f32" | tee "$out/ours.jsonl"
echo "== scikit-image (classic_peers.py hog)" >&2
(cd "$peers" && OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 classic_peers.py hog) | tee "$out/peers.txt"
/usr/bin/python3 - "$out/ours.jsonl" "$out/peers.txt" <<'PY'
import json, re, sys
ours = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
peer = None
for line in open(sys.argv[2]):
    m = re.search(r"skimage HOG .*per-image=([\d.]+) us", line)
    if m: peer = float(m.group(1))
print("\nextractor  length  sharpvision µs/image (2 threads)   skimage µs/image   ratio")
for o in ours:
    name = o["bench"].replace("sharpvision features ", "")
    ratio = f"{peer / o['us_per_image']:7.1f}x" if name == "hog" and peer else ""
    peer_text = f"{peer:10.0f}" if name == "hog" and peer else " " * 10
    print(f"{name:9s} {o['length']:7d}   {o['us_per_image']:12.2f}                     {peer_text}        {ratio}")
hog = next((o for o in ours if o["bench"].endswith(" hog")), None)
if hog and hog.get("max_abs_difference_vs_skimage") is not None:
    print(f"HOG max |ours - skimage| over 1,000 test images: {hog['max_abs_difference_vs_skimage']:.2e}")
PY
