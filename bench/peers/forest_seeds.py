# scikit-learn's RandomForestClassifier as classic_peers.py trees runs it (100 trees, gini, sqrt features, 2 jobs), over
# several seeds: a forest's test accuracy moves by about ±0.002 from seed to seed, as much as the difference between two
# implementations, so one seed cannot rank them.
#   OMP_NUM_THREADS=2 /usr/bin/python3 forest_seeds.py [SEEDS=5]
import sys, time, numpy as np
from fmnist import load
from sklearn.ensemble import RandomForestClassifier
seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
xtr, ytr, xte, yte = load()
Xtr = xtr.reshape(len(xtr), -1).astype(np.float32); Xte = xte.reshape(len(xte), -1).astype(np.float32)
accuracies = []
for seed in range(seeds):
    t = time.perf_counter(); m = RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=seed).fit(Xtr, ytr); s = time.perf_counter() - t
    accuracies.append(m.score(Xte, yte))
    print(f"sklearn RandomForest 100 trees, seed {seed}: fit {s:.2f} s, acc={accuracies[-1]:.4f}", flush=True)
print(f"sklearn RandomForest 100 trees, {seeds} seeds: mean acc={np.mean(accuracies):.4f} (min {min(accuracies):.4f}, max {max(accuracies):.4f})")
