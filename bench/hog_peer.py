# The HOG pipelines of bench/hog_pipeline.sh on the scikit-image + scikit-learn side, on the same features as ours:
# skimage.feature.hog (9 orientations, 4x4 cells, 2x2 blocks, L2-Hys) of all 70,000 images, optionally concatenated with
# the raw pixels / 255 ("hog+pixels"), then LinearSVC (squared hinge, one-vs-rest, C=0.1, primal solver) — for the
# concatenation after StandardScaler, as ours standardizes every pipeline.
#   OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/hog_peer.py hog|hog+pixels
import os, sys, time
import numpy as np
sys.path.insert(0, os.environ.get("PEERS", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench", "peers")))
from fmnist import load
from skimage.feature import hog
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

spec = sys.argv[1] if len(sys.argv) > 1 else "hog"
xtr, ytr, xte, yte = load()
t0 = time.perf_counter()
f = lambda im: hog(im, orientations=9, pixels_per_cell=(4, 4), cells_per_block=(2, 2), block_norm="L2-Hys")
Htr = np.array([f(im) for im in xtr], np.float32)
Hte = np.array([f(im) for im in xte], np.float32)
extract = time.perf_counter() - t0
if spec == "hog+pixels":
    Htr = np.hstack([Htr, xtr.reshape(len(xtr), -1).astype(np.float32) / 255])
    Hte = np.hstack([Hte, xte.reshape(len(xte), -1).astype(np.float32) / 255])
t1 = time.perf_counter()
if spec == "hog+pixels":
    sc = StandardScaler().fit(Htr)
    Htr, Hte = sc.transform(Htr), sc.transform(Hte)
model = LinearSVC(C=0.1, dual=False).fit(Htr, ytr)
fit = time.perf_counter() - t1
acc = model.score(Hte, yte)
print(f"peer {spec}: skimage HOG {extract:.1f} s ({extract / 70000 * 1e6:.0f} us/image), dim {Htr.shape[1]}; LinearSVC {fit:.1f} s; total {extract + fit:.1f} s; acc={acc:.4f}", flush=True)
