#!/usr/bin/python3
"""Reference fixtures for SharpVision.Classic.Trees (DecisionTreeClassifier) and SharpVision.Classic.Svm (SVC),
with Debian's scikit-learn as the oracle.

Run with Debian's interpreter (python3-sklearn, python3-numpy):
    /usr/bin/python3 tests/Fixtures/trees/make_fixtures.py

Writes trees.safetensors and svm.safetensors next to this script (with ../safetensors_writer.py). Seeded: it
regenerates byte for byte.

trees.safetensors
  x        float32 N x 4   toy features (uniform, rounded to float32: no two values equal within a feature)
  y        int32 N         3 classes from a rule on the features, 10 % of labels flipped
  w        int32 N         integer sample weights 1..999 (the weighted cases pass them as sample_weight)
  <case>.feature / .left / .right / .samples  int32 per node (scikit-learn's tree_ arrays, preorder)
  <case>.threshold, .weighted_samples  float64 per node;  <case>.value  float64 nodes x 3, weighted class fractions
  The cases' parameters are in __metadata__. Each tree is grown with max_features=None under twenty random_states and
  the script asserts the twenty trees are identical: no split of these cases is a tie that the feature order could break
  differently, so any correct CART must grow exactly these trees.

svm.safetensors
  x, y           float32 N x 5, int32 N: three overlapping Gaussian blobs;  xtest float32 M x 5
  <case>.support int32 (row of each support vector, grouped by class), .n_support int32 K,
  <case>.dual_coef float64 (K-1) x nSV (libsvm's sv_coef), .rho float64 K(K-1)/2 (libsvm's rho = -intercept_),
  <case>.decision float64 M x K(K-1)/2 (decision_function_shape="ovo": positive votes for the first class of a pair),
  <case>.predict int32 M.  Solved to tol=1e-8 so both solvers reach the optimum itself.
  nystroem.indices int32 m (Nystroem's component_indices_: the landmark rows of x), nystroem.xtest float32 M x m (its
  transform of xtest), nystroem.decision float64 M x K (LinearSVC, C=1, tol=1e-10, on the transform of x: the exact
  optimum, which any exact solver reaches). Nystroem: rbf, gamma=0.3, n_components=40, random_state=0.
"""
import os
import sys

import numpy as np
import sklearn
from sklearn.kernel_approximation import Nystroem
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import safetensors_writer  # noqa: E402  (tests/Fixtures/safetensors_writer.py)

rng = np.random.RandomState(0)

# ---- decision trees ----------------------------------------------------------------------------------------------
N = 240
x = rng.uniform(0, 1, size=(N, 4)).astype(np.float32)
for j in range(x.shape[1]):
    assert len(np.unique(x[:, j])) == N, "a feature has a repeated value"
y = ((x[:, 0] + 0.5 * x[:, 1] > 0.8).astype(np.int32) + (x[:, 2] > 0.6).astype(np.int32)).astype(np.int32)
flip = rng.uniform(0, 1, size=N) < 0.1
y[flip] = rng.randint(0, 3, size=flip.sum())
# Integer sample weights make equal class-count vectors (ties between features) unlikely; small leaves are avoided
# because two rows of different classes can be split apart by any feature with the same gain.
w = rng.randint(1, 1000, size=N).astype(np.int32)
trees = {"x": x, "y": y.astype(np.int32), "w": w}
tree_meta = {"sklearn": sklearn.__version__, "n": str(N)}
cases = {
    "gini_leaf5": (dict(criterion="gini", min_samples_leaf=5), True),
    "entropy_leaf5": (dict(criterion="entropy", min_samples_leaf=5), True),
    "gini_split20_depth6": (dict(criterion="gini", min_samples_split=20, max_depth=6), True),
    "unweighted_split30_leaf3": (dict(criterion="gini", min_samples_split=30, min_samples_leaf=3), False),
}
for name, (params, weighted) in cases.items():
    fitted = [DecisionTreeClassifier(random_state=s, **params).fit(x, y, sample_weight=w if weighted else None).tree_ for s in range(20)]
    t = fitted[0]
    for other in fitted[1:]:
        assert np.array_equal(t.feature, other.feature) and np.array_equal(t.threshold, other.threshold), f"{name}: the feature order breaks a tie"
    value = t.value[:, 0, :]
    trees[f"{name}.feature"] = t.feature.astype(np.int32)
    trees[f"{name}.threshold"] = t.threshold.astype(np.float64)
    trees[f"{name}.left"] = t.children_left.astype(np.int32)
    trees[f"{name}.right"] = t.children_right.astype(np.int32)
    trees[f"{name}.samples"] = t.n_node_samples.astype(np.int32)
    trees[f"{name}.weighted_samples"] = t.weighted_n_node_samples.astype(np.float64)
    trees[f"{name}.value"] = (value / value.sum(axis=1, keepdims=True)).astype(np.float64)
    for key, v in params.items():
        tree_meta[f"{name}.{key}"] = str(v)
    tree_meta[f"{name}.weighted"] = str(weighted)
    print(name, "nodes", t.node_count, "depth", t.max_depth)
safetensors_writer.write(os.path.join(HERE, "trees.safetensors"), trees, tree_meta)

# ---- kernel SVM --------------------------------------------------------------------------------------------------
centers = np.array([[0, 0, 0, 0, 0], [1.5, 1, 0, 0.5, 0], [0, 1.5, 1.2, 0, 0.5]], dtype=np.float64)
per_class, test_count = 40, 30
xs = np.concatenate([rng.normal(c, 0.9, size=(per_class, 5)) for c in centers]).astype(np.float32)
ys = np.repeat(np.arange(3), per_class).astype(np.int32)
order = rng.permutation(len(ys))
xs, ys = xs[order], ys[order]
xtest = rng.normal(0.5, 1.2, size=(test_count, 5)).astype(np.float32)
svm = {"x": xs, "y": ys, "xtest": xtest}
svm_meta = {"sklearn": sklearn.__version__}
svm_cases = {
    "rbf_c1": dict(kernel="rbf", C=1.0, gamma="scale"),
    "rbf_c10": dict(kernel="rbf", C=10.0, gamma="scale"),
    "poly3": dict(kernel="poly", C=1.0, gamma="scale", degree=3, coef0=1.0),
    "linear": dict(kernel="linear", C=0.5),
}
for name, params in svm_cases.items():
    m = SVC(tol=1e-8, decision_function_shape="ovo", **params).fit(xs, ys)
    svm[f"{name}.support"] = m.support_.astype(np.int32)
    svm[f"{name}.n_support"] = m.n_support_.astype(np.int32)
    svm[f"{name}.dual_coef"] = m.dual_coef_.astype(np.float64)
    svm[f"{name}.rho"] = (-m.intercept_).astype(np.float64)
    svm[f"{name}.decision"] = m.decision_function(xtest).astype(np.float64)
    svm[f"{name}.predict"] = m.predict(xtest).astype(np.int32)
    for key, v in params.items():
        svm_meta[f"{name}.{key}"] = str(v)
    svm_meta[f"{name}.gamma_value"] = repr(float(m._gamma))
    print(name, "support vectors", m.n_support_, "gamma", m._gamma)
# The approximate kernel SVM: scikit-learn's make_pipeline(Nystroem, LinearSVC), kept apart from the rng above.
nys = Nystroem(kernel="rbf", gamma=0.3, n_components=40, random_state=0).fit(xs)
linear = LinearSVC(C=1.0, loss="squared_hinge", penalty="l2", dual=True, tol=1e-10, max_iter=1_000_000, random_state=0).fit(nys.transform(xs), ys)
svm["nystroem.indices"] = nys.component_indices_.astype(np.int32)
svm["nystroem.xtest"] = nys.transform(xtest).astype(np.float32)
svm["nystroem.decision"] = linear.decision_function(nys.transform(xtest)).astype(np.float64)
print("nystroem components", len(nys.component_indices_))
safetensors_writer.write(os.path.join(HERE, "svm.safetensors"), svm, svm_meta)
