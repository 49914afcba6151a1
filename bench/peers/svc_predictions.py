# scikit-learn's SVC as classic_peers.py kernel runs it (C=10, gamma=scale, pixels/255, the first N training images),
# writing its test predictions and one-vs-one decision values, to compare with SharpVision's image by image.
#   /usr/bin/python3 svc_predictions.py OUT_DIR [N=10000] [TOL=1e-3]
import sys, time, numpy as np
from fmnist import load
from sklearn.svm import SVC
out = sys.argv[1]; n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000; tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-3
xtr, ytr, xte, yte = load()
Xtr = xtr.reshape(len(xtr), -1).astype(np.float32); Xte = xte.reshape(len(xte), -1).astype(np.float32)
t = time.perf_counter()
m = SVC(C=10, kernel="rbf", gamma="scale", cache_size=2000, tol=tol, decision_function_shape="ovo").fit(Xtr[:n] / 255, ytr[:n])
fit = time.perf_counter() - t
d = m.decision_function(Xte / 255); p = m.predict(Xte / 255)
suffix = "" if tol == 1e-3 else f"-{tol:g}"
np.savetxt(f"{out}/sklearn_predictions{suffix}.txt", p, fmt="%d"); np.save(f"{out}/sklearn_ovo{suffix}.npy", d)
print(f"tol {tol:g}: fit {fit:.1f} s, accuracy {np.mean(p == yte):.4f}, support vectors {m.n_support_.sum()}, gamma {m._gamma!r}")
