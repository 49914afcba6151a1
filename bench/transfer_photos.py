#!/usr/bin/python3
"""Builds two small folders of real photographs for the transfer-learning demo (docs/transfer.md), from images Debian's
python3-skimage, python3-sklearn and python3-matplotlib ship. Deterministic: the same files byte for byte on every run.

  faces/   ROOT/<face|not-face>/*.png: scikit-image's lfw_subset (100 face crops from Labeled Faces in the Wild and 100
           crops of other parts of the same photographs, 25x25 gray); `train` holds out 20 % (stratified, seed 0).
  scenes/  ROOT/train/<class>/*.png and ROOT/test/<class>/*.png: two classes of whole photographs (the only classes with three
           distinct photographs among those files), 256x256 RGB.
           Training images are 8 random square crops (40-100 % of the shorter side, seeded) of the first two photos of
           each class; the test image is the center square of the third photo, which training never sees.

usage: /usr/bin/python3 bench/transfer_photos.py OUT_DIR
"""
import os
import sys

import numpy as np
from PIL import Image

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
MATPLOTLIB = "/usr/share/matplotlib/mpl-data/sample_data"

# class -> (two training photos, one held-out photo)
SCENES = {
    "person": ([f"{SKIMAGE}/astronaut.png", f"{SKIMAGE}/camera.png"], f"{MATPLOTLIB}/grace_hopper.jpg"),
    "texture": ([f"{SKIMAGE}/grass.png", f"{SKIMAGE}/gravel.png"], f"{SKIMAGE}/brick.png"),
}
SIZE = 256
CROPS = 8


def square(image, left, top, side):
    return image.crop((left, top, left + side, top + side)).resize((SIZE, SIZE), Image.BILINEAR)


def faces(root):
    data = np.load(f"{SKIMAGE}/lfw_subset.npy")  # 200 x 25 x 25 floats in [0, 1]: 100 faces, then 100 non-faces
    for i, image in enumerate(data):
        label = "face" if i < 100 else "not-face"
        os.makedirs(f"{root}/{label}", exist_ok=True)
        Image.fromarray(np.round(image * 255).astype(np.uint8), "L").save(f"{root}/{label}/{i:03d}.png")


def scenes(root):
    rng = np.random.default_rng(0)
    for label, (train, test) in SCENES.items():
        os.makedirs(f"{root}/train/{label}", exist_ok=True)
        os.makedirs(f"{root}/test/{label}", exist_ok=True)
        for path in train:
            image = Image.open(path).convert("RGB")
            w, h = image.size
            for k in range(CROPS):
                side = int(min(w, h) * rng.uniform(0.4, 1.0))
                left, top = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
                name = os.path.splitext(os.path.basename(path))[0]
                square(image, left, top, side).save(f"{root}/train/{label}/{name}-{k}.png")
        image = Image.open(test).convert("RGB")
        w, h = image.size
        side = min(w, h)
        name = os.path.splitext(os.path.basename(test))[0]
        square(image, (w - side) // 2, (h - side) // 2, side).save(f"{root}/test/{label}/{name}.png")


if __name__ == "__main__":
    out = sys.argv[1]
    faces(f"{out}/faces")
    scenes(f"{out}/scenes")
    print(f"wrote {out}/faces (200 images) and {out}/scenes ({len(SCENES) * 2 * CROPS} training crops, {len(SCENES)} held-out photos)")
