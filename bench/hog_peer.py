# The HOG + linear SVM pipeline of bench/hog_pipeline.sh on the scikit-image + scikit-learn side:
# skimage.feature.hog (9 orientations, 4x4 cells, 2x2 blocks, the given block_norm) of all 70,000 images, optionally
# StandardScaler (ours standardizes every feature pipeline), then LinearSVC(C) — squared hinge, one-vs-rest, L2, a
# regularized intercept, solved exactly by liblinear's primal Newton solver (dual=False; the optimum is unique).
#   OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/hog_peer.py NORM C [standardize]
#   e.g. hog_peer.py L2-Hys 0.1            (the reference: raw HOG, C=0.1, as bench/peers/classic_peers.py hog)
#        hog_peer.py L1-sqrt 0.003 standardize   (the same model as `train --solver dual --features hog:norm=L1-sqrt --c 0.003`)
import os, sys, time
import numpy as np
sys.path.insert(0, os.environ.get("PEERS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers")))
from fmnist import load
from skimage.feature import hog
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

norm, c = sys.argv[1], float(sys.argv[2])
standardize = len(sys.argv) > 3 and sys.argv[3] == "standardize"
xtr, ytr, xte, yte = load()
t0 = time.perf_counter()
f = lambda im: hog(im, orientations=9, pixels_per_cell=(4, 4), cells_per_block=(2, 2), block_norm=norm)
Htr = np.array([f(im) for im in xtr], np.float32)
Hte = np.array([f(im) for im in xte], np.float32)
extract = time.perf_counter() - t0
t1 = time.perf_counter()
if standardize:
    sc = StandardScaler().fit(Htr)
    Htr, Hte = sc.transform(Htr), sc.transform(Hte)
model = LinearSVC(C=c, dual=False).fit(Htr, ytr)
fit = time.perf_counter() - t1
acc = model.score(Hte, yte)
print(f"peer hog {norm} C={c}{' standardized' if standardize else ''}: skimage HOG {extract:.1f} s ({extract / 70000 * 1e6:.0f} us/image), dim {Htr.shape[1]}; "
      f"LinearSVC {fit:.1f} s; total {extract + fit:.1f} s; acc={acc:.4f}", flush=True)
