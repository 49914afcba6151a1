#!/usr/bin/env bash
# k-NN on standardized HOG features of full Fashion-MNIST (60,000 training vectors, 10,000 queries, d = 1,296),
# SharpVision and scikit-learn in one run, 2 threads.
#   bash bench/knn_features.sh         # needs Debian's dataset-fashion-mnist and python3-sklearn
#   QUERIES=2000 bash bench/knn_features.sh
# 1. SharpVision writes its HOG features (equal to scikit-image's, see bench/features.sh) to a file;
# 2. SharpVision: the float search alone, L2 and L1, k = 5 (bench knnfeatures, processor time included);
# 3. scikit-learn: StandardScaler fitted on the training features, KNeighborsClassifier(5, brute) on the same
#    features and queries; then the ratios.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
queries="${QUERIES:-10000}"
export SHARPVISION_CACHE="$out/cache"
dotnet build "$root/bench/SharpVision.Bench" -c Release --nologo -v quiet -clp:NoSummary >&2
"$root/sharpvision" features extract --dataset fashion-mnist --features hog --threads 2 --out "$out/hog.safetensors" >&2
echo "== SharpVision (search only, 1 run after a warm-up)" >&2
dotnet "$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll" knnfeatures --repeats 1 --threads 2 --queries "$queries" | tee "$out/ours.jsonl"
echo "== scikit-learn KNeighborsClassifier(5, algorithm='brute') on the same features" >&2
OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 - "$out/hog.safetensors" "$queries" "$out/ours.jsonl" <<'PY'
import json, struct, sys, time, numpy as np
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
raw = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", raw[:8])[0]; header = json.loads(raw[8:8 + n])
def tensor(name, dtype):
    t = header[name]; a, b = t["data_offsets"]
    return np.frombuffer(raw[8 + n + a:8 + n + b], dtype).reshape(t["shape"])
xtr, ytr = tensor("train.features", np.float32), tensor("train.labels", np.int32)
q = int(sys.argv[2]); xte, yte = tensor("test.features", np.float32)[:q], tensor("test.labels", np.int32)[:q]
scaler = StandardScaler().fit(xtr); A, B = scaler.transform(xtr).astype(np.float32), scaler.transform(xte).astype(np.float32)
ours = {json.loads(l)["bench"].split()[-2]: json.loads(l) for l in open(sys.argv[3]) if l.startswith("{")}
print("\nmetric      sharpvision s (cpu s)   sklearn s   speed-up   acc (ours / sklearn)")
for metric in ("euclidean", "manhattan"):
    m = q if metric == "euclidean" else min(q, 1000)   # sklearn's brute L1 is slow: time it on 1,000 queries and scale
    clf = KNeighborsClassifier(n_neighbors=5, algorithm="brute", metric=metric, n_jobs=2).fit(A, ytr)
    t = time.perf_counter(); p = clf.predict(B[:m]); s = (time.perf_counter() - t) * q / m
    o = ours[metric]
    print(f"{metric:10s}  {o['median_s']:8.2f} ({o['cpu_s']:6.2f})      {s:9.2f}   {s / o['median_s']:6.1f}x   {o['accuracy']:.4f} / {np.mean(p == yte[:m]):.4f}{'' if m == q else f' (sklearn: first {m}, time scaled)'}")
PY
