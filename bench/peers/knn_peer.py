# scikit-learn's brute-force k-NN on Fashion-MNIST exactly as classic_peers.py knn runs it (KNeighborsClassifier,
# algorithm="brute", n_jobs=2, float32 pixels), one (metric, k, queries) setting per argument, so a benchmark can time
# just the settings it compares. Usage: python3 knn_peer.py euclidean:1:10000 manhattan:1:1000
import sys, time, numpy as np
from fmnist import load
from sklearn.neighbors import KNeighborsClassifier
xtr, ytr, xte, yte = load()
Xtr = xtr.reshape(len(xtr), -1).astype(np.float32); Xte = xte.reshape(len(xte), -1).astype(np.float32)
for setting in sys.argv[1:] or ["euclidean:1:10000", "manhattan:1:1000"]:
    metric, k, n = setting.split(":"); k, n = int(k), int(n)
    clf = KNeighborsClassifier(n_neighbors=k, algorithm="brute", metric=metric, n_jobs=2).fit(Xtr, ytr)
    t = time.perf_counter(); p = clf.predict(Xte[:n]); s = time.perf_counter() - t
    print(f"{'sklearn kNN brute ' + metric + ' k=' + str(k) + ', ' + str(n) + ' queries':55s} {s:9.2f} s  acc={np.mean(p == yte[:n]):.4f} per-query={s/n*1000:.2f} ms", flush=True)
