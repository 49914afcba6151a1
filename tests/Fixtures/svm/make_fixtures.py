#!/usr/bin/python3
"""Reference fixtures for SharpVision.Training.DualCoordinateDescent (scikit-learn 1.2's LinearSVC is the oracle).

Run with Debian's interpreter (python3-sklearn, python3-numpy; Fashion-MNIST from dataset-fashion-mnist):
    /usr/bin/python3 tests/Fixtures/svm/make_fixtures.py

Writes svm.safetensors next to this script (with ../safetensors_writer.py, no extra package):
  images   uint8 N x 28 x 28   the first 600 Fashion-MNIST training images
  labels   int32 N             their labels
  <case>.coef       float64 K x 784   LinearSVC(...).coef_ on x = images / 255 (float32), flattened
  <case>.intercept  float64 K          LinearSVC(...).intercept_
The cases (their C, loss, classes) are in "__metadata__". Every case is LinearSVC with the squared hinge, L2 penalty,
one-vs-rest, intercept_scaling=1 (a regularized bias), solved to tol=1e-10 so the reference is the optimum itself:
the primal problem is strictly convex, so any exact solver must reach these weights.
"""
import gzip
import os
import sys
import struct

import numpy as np
import sklearn
from sklearn.svm import LinearSVC

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import safetensors_writer  # noqa: E402  (tests/Fixtures/safetensors_writer.py)

FMNIST = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
N = 600

tensors = {}
metadata = {"sklearn": sklearn.__version__, "n": str(N)}


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def write_safetensors(path):
    safetensors_writer.write(path, tensors, metadata)


images = idx(os.path.join(FMNIST, "train-images-idx3-ubyte.gz"))[:N]
labels = idx(os.path.join(FMNIST, "train-labels-idx1-ubyte.gz"))[:N].astype(np.int32)
x = images.reshape(N, -1).astype(np.float32) / np.float32(255)
tensors["images"] = images
tensors["labels"] = labels

# name: (C, classes kept or None for all ten)
cases = {"c0.1": (0.1, None), "c1": (1.0, None), "c0.01": (0.01, None), "binary_c0.1": (0.1, [0, 6])}
for name, (c, keep) in cases.items():
    rows = np.arange(N) if keep is None else np.flatnonzero(np.isin(labels, keep))
    model = LinearSVC(C=c, loss="squared_hinge", penalty="l2", dual=True, tol=1e-10, max_iter=1_000_000, random_state=0).fit(x[rows], labels[rows])
    tensors[f"{name}.coef"] = model.coef_.astype(np.float64)
    tensors[f"{name}.intercept"] = model.intercept_.astype(np.float64)
    metadata[f"{name}.c"] = repr(c)
    metadata[f"{name}.classes"] = ",".join(map(str, keep)) if keep else "all"
    print(name, "iterations", model.n_iter_, "train accuracy", model.score(x[rows], labels[rows]))

write_safetensors(os.path.join(HERE, "svm.safetensors"))
