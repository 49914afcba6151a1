#!/usr/bin/python3
"""Makes data/sample/fashion-mnist: a stratified 2,000 train / 500 test subset of the real Fashion-MNIST (MIT licence),
shipped so the main job and the tests run on a machine without the full dataset.

    /usr/bin/python3 data/make_sample.py [/usr/share/datasets/fashion-mnist]
"""
import gzip, os, sys
import numpy as np

src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
dst = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample", "fashion-mnist")
os.makedirs(dst, exist_ok=True)

def read(name, offset):
    with gzip.open(os.path.join(src, name), "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)

def stratified(labels, per_class, rng):
    picked = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(picked))

def write(name, array, dims):
    # IDX: magic 0x0000080N (unsigned bytes, N dimensions), big-endian sizes, then the data. mtime=0 keeps the file reproducible.
    header = bytes([0, 0, 8, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims)
    with open(os.path.join(dst, name), "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(header + array.tobytes())

rng = np.random.default_rng(2024)
for prefix, per_class in (("train", 200), ("t10k", 50)):
    images = read(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    labels = read(f"{prefix}-labels-idx1-ubyte.gz", 8)
    idx = stratified(labels, per_class, rng)
    write(f"{prefix}-images-idx3-ubyte.gz", images[idx], (len(idx), 28, 28))
    write(f"{prefix}-labels-idx1-ubyte.gz", labels[idx], (len(idx),))
    print(f"{prefix}: {len(idx)} images, {per_class} per class")
