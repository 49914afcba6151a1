"""scikit-learn's t-SNE on the same Fashion-MNIST test images SharpVision mapped, and both maps measured the same way.

Usage: /usr/bin/python3 bench/tsne_peer.py OUT_DIR [--threads 2] [--perplexity 30] [--iterations 1000] [--seed 0]
OUT_DIR must hold sharpvision.csv (from `sharpvision embed --coordinates`) and sharpvision.json (its --json output).
Writes sklearn.csv and summary.json there and prints a comparison.

Peer: pixels / 255 -> PCA(50) -> TSNE(perplexity, n_iter, init="pca", learning_rate="auto", method="barnes_hut",
angle=0.5, n_jobs=threads, random_state=seed), scikit-learn's defaults otherwise (the settings SharpVision copies).
Both maps are then scored by this script alone:
  * KL: each tool's own final value, and the exact KL(P||Q) of both maps against one common P (scikit-learn's
    kNN P on its PCA-50 input) with Q over all pairs, so the two numbers are comparable;
  * separation: per class, the share of its points whose 10 nearest map neighbours are all of its class ("purity"),
    and leave-one-out 10-NN accuracy on the map; Trouser and Bag against the other eight classes pooled.
"""
import csv, gzip, json, os, sys, time
import numpy as np

D = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def read_idx(name, offset):
    with gzip.open(os.path.join(D, name), "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def read_map(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    index = np.array([int(r["index"]) for r in rows])
    xy = np.array([[float(r["x"]), float(r["y"])] for r in rows], dtype=np.float64)
    label = np.array([int(r["label"]) for r in rows])
    return index, xy, label


def separation(xy, labels, k=10):
    from sklearn.neighbors import NearestNeighbors
    # k + 1 neighbours: the first is the point itself (stable sort puts it first among equal distances only if
    # no other point coincides; drop it by index instead of by rank).
    nn = NearestNeighbors(n_neighbors=k + 1).fit(xy)
    _, idx = nn.kneighbors(xy)
    rows = []
    for i in range(len(xy)):
        others = [j for j in idx[i] if j != i][:k]
        rows.append(others)
    idx = np.array(rows)
    neighbour_labels = labels[idx]
    pure = (neighbour_labels == labels[:, None]).all(axis=1)
    votes = np.array([np.bincount(r, minlength=10) for r in neighbour_labels])
    # majority; ties to the class of the nearest among the tied
    predicted = []
    for r, v in zip(neighbour_labels, votes):
        best = v.max()
        predicted.append(next(c for c in r if v[c] == best))
    correct = np.array(predicted) == labels
    per_class = {CLASSES[c]: {"purity": float(pure[labels == c].mean()), "neighbor_accuracy": float(correct[labels == c].mean())} for c in range(10)}
    others = ~np.isin(labels, [1, 8])
    per_class["other 8 classes"] = {"purity": float(pure[others].mean()), "neighbor_accuracy": float(correct[others].mean())}
    per_class["all"] = {"purity": float(pure.mean()), "neighbor_accuracy": float(correct.mean())}
    return per_class


def exact_kl(P, y):
    """KL(P||Q) with Q_ij = w_ij / sum_{k != l} w_kl, w = 1 / (1 + |y_i - y_j|^2), over all pairs (blocks of rows)."""
    y = y.astype(np.float64)
    n = len(y)
    z = 0.0
    for s in range(0, n, 1000):
        d2 = ((y[s:s + 1000, None, :] - y[None, :, :]) ** 2).sum(-1)
        w = 1.0 / (1.0 + d2)
        w[np.arange(len(w)), np.arange(s, s + len(w))] = 0
        z += w.sum()
    P = P.tocoo()
    p = P.data.astype(np.float64)
    keep = p > 0
    i, j, p = P.row[keep], P.col[keep], p[keep]
    w = 1.0 / (1.0 + ((y[i] - y[j]) ** 2).sum(-1))
    return float((p * np.log(p / (w / z))).sum() / p.sum())


def main():
    out = sys.argv[1]
    threads, perplexity, iterations, seed = arg("--threads", 2), arg("--perplexity", 30.0), arg("--iterations", 1000), arg("--seed", 0)
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.manifold._t_sne import _joint_probabilities_nn
    from sklearn.neighbors import NearestNeighbors

    index, ours_xy, ours_labels = read_map(os.path.join(out, "sharpvision.csv"))
    ours = json.load(open(os.path.join(out, "sharpvision.json")))
    images = read_idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    labels = read_idx("t10k-labels-idx1-ubyte.gz", 8).astype(int)
    assert (labels[index] == ours_labels).all(), "SharpVision's CSV does not match the test labels"
    x = images[index].astype(np.float32) / 255.0
    n = len(x)

    wall, cpu = time.perf_counter(), time.process_time()
    x50 = PCA(n_components=50, random_state=seed).fit_transform(x)
    pca_wall, pca_cpu = time.perf_counter() - wall, time.process_time() - cpu
    tsne = TSNE(n_components=2, perplexity=perplexity, n_iter=iterations, init="pca", learning_rate="auto", method="barnes_hut",
                angle=0.5, n_jobs=threads, random_state=seed)
    wall, cpu = time.perf_counter(), time.process_time()
    sk_xy = tsne.fit_transform(x50)
    tsne_wall, tsne_cpu = time.perf_counter() - wall, time.process_time() - cpu
    with open(os.path.join(out, "sklearn.csv"), "w") as f:
        f.write("index,x,y,label,class\n")
        for i in range(n):
            f.write(f"{index[i]},{sk_xy[i, 0]!r},{sk_xy[i, 1]!r},{labels[index[i]]},\"{CLASSES[labels[index[i]]]}\"\n")

    # One P for both maps: scikit-learn's own construction on its PCA-50 input.
    k = min(n - 1, int(3.0 * perplexity + 1))
    distances = NearestNeighbors(n_neighbors=k).fit(x50).kneighbors_graph(mode="distance")
    distances.data **= 2
    P = _joint_probabilities_nn(distances, perplexity, 0)

    t = ours["timings_s"]
    summary = {
        "n": n, "threads": threads, "perplexity": perplexity, "iterations": iterations,
        "sharpvision": {
            "pca_s": t["pca"], "tsne_s": round(t["knn"] + t["affinities"] + t["optimization"], 3),
            "knn_s": t["knn"], "affinities_s": t["affinities"], "optimization_s": t["optimization"], "pca_tsne_cpu_s": ours["cpu_s"]["pca_tsne"],
            "iterations_run": ours["tsne"]["iterations"], "kl_own": ours["tsne"]["kl_divergence"], "kl_common_p": exact_kl(P, ours_xy),
            "separation": separation(ours_xy, ours_labels),
        },
        "sklearn": {
            "version": __import__("sklearn").__version__,
            "pca_s": round(pca_wall, 3), "pca_cpu_s": round(pca_cpu, 3), "tsne_s": round(tsne_wall, 3), "tsne_cpu_s": round(tsne_cpu, 3),
            "pca_tsne_cpu_s": round(pca_cpu + tsne_cpu, 3),
            "iterations_run": int(tsne.n_iter_) + 1,  # n_iter_ is the last iteration's 0-based index "kl_own": float(tsne.kl_divergence_), "kl_common_p": exact_kl(P, sk_xy),
            "separation": separation(sk_xy, labels[index]),
        },
    }
    json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=2)

    s, p = summary["sharpvision"], summary["sklearn"]
    print(f"\nt-SNE of {n} Fashion-MNIST test images (pixels/255 -> PCA 50), perplexity {perplexity:g}, {iterations} iterations, "
          f"Barnes-Hut theta 0.5, {threads} threads, one run")
    print(f"{'':40}{'SharpVision':>14}{'scikit-learn ' + p['version']:>20}")
    print(f"{'PCA to 50 (s)':40}{s['pca_s']:14.2f}{p['pca_s']:20.2f}")
    print(f"{'t-SNE wall time (s)':40}{s['tsne_s']:14.2f}{p['tsne_s']:20.2f}   ratio {p['tsne_s'] / s['tsne_s']:.1f}x")
    print(f"{'  of which kNN + P (s)':40}{s['knn_s'] + s['affinities_s']:14.2f}{'':>20}")
    print(f"{'PCA + t-SNE CPU time, all threads (s)':40}{s['pca_tsne_cpu_s']:14.2f}{p['pca_tsne_cpu_s']:20.2f}   ratio {p['pca_tsne_cpu_s'] / s['pca_tsne_cpu_s']:.1f}x")
    print(f"{'iterations run':40}{s['iterations_run']:14d}{p['iterations_run']:20d}")
    print(f"{'final KL, own estimate':40}{s['kl_own']:14.4f}{p['kl_own']:20.4f}")
    print(f"{'final KL, exact, common P':40}{s['kl_common_p']:14.4f}{p['kl_common_p']:20.4f}")
    print("\nseparation on the map: share of points whose 10 nearest map neighbours are all of their class (purity),")
    print("and leave-one-out 10-NN accuracy on the map")
    print(f"{'class':18}{'SV purity':>11}{'SK purity':>11}{'SV 10-NN':>10}{'SK 10-NN':>10}")
    for name in ["Trouser", "Bag", "other 8 classes", "all"] + [c for c in CLASSES if c not in ("Trouser", "Bag")]:
        a, b = s["separation"][name], p["separation"][name]
        print(f"{name:18}{a['purity']:11.3f}{b['purity']:11.3f}{a['neighbor_accuracy']:10.3f}{b['neighbor_accuracy']:10.3f}")


if __name__ == "__main__":
    main()
