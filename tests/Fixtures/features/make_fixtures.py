#!/usr/bin/python3
"""Reference fixtures for SharpVision.Features tests (scikit-image 0.19.3 is the oracle).

Run with Debian's interpreter (python3-skimage, python3-numpy, python3-scipy; Fashion-MNIST from
dataset-fashion-mnist) from anywhere:
    /usr/bin/python3 tests/Fixtures/features/make_fixtures.py

Writes features.safetensors next to this script: the safetensors layout (8-byte little-endian header length, JSON
header, raw little-endian data), written by ../safetensors_writer.py so no extra package is needed.

Images (uint8, stored planar C x H x W as "image.<name>"):
  camera    skimage camera.png[::8, ::8]                      1 x 64 x 64
  astronaut skimage astronaut.png[::8, ::8]                   3 x 64 x 64
  coffee    skimage coffee.png[::6, ::6][:64, 10:74]          3 x 64 x 64
  chelsea   skimage chelsea.png[::4, ::4][:64, 20:84]         3 x 64 x 64
  fmnist0..3  the first four Fashion-MNIST training images    1 x 28 x 28
References (float32 unless noted):
  hog.<image>.<case>          skimage.feature.hog(..., feature_vector=True); the cases are listed in "__metadata__"
  lbp.<image>.<method>        skimage.feature.local_binary_pattern(gray, P=8, R=1, method) (H x W)
  gabor_kernel.<i>.real/.imag skimage.filters.gabor_kernel(frequency, theta) (float64); parameters in metadata
  gabor.<image>.<i>.real/.imag skimage.filters.gabor(image, frequency, theta) (ndi.convolve, mode='reflect');
                              camera for parameter sets 0, 1, 3, fmnist1 for all
  hsv.<image>                 skimage.color.rgb2hsv(rgb) as 3 x H x W (float64)
  hsv_histogram.<image>.<bins> numpy.histogram(channel, bins, range=(0, 1)) counts of H, S, V, concatenated (int32)
"""
import gzip
import os
import sys

import numpy as np
from skimage import color, data, feature, filters

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import safetensors_writer  # noqa: E402  (tests/Fixtures/safetensors_writer.py)

FMNIST = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")

tensors = {}
metadata = {}


def put(name, array):
    array = np.ascontiguousarray(array)
    assert name not in tensors, name
    tensors[name] = array


def planar(image):
    return image[None] if image.ndim == 2 else np.transpose(image, (2, 0, 1))


def write_safetensors(path):
    safetensors_writer.write(path, tensors, metadata)


with gzip.open(os.path.join(FMNIST, "train-images-idx3-ubyte.gz"), "rb") as f:
    fmnist = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)

images = {
    "camera": data.camera()[::8, ::8],
    "astronaut": data.astronaut()[::8, ::8],
    "coffee": data.coffee()[::6, ::6][:64, 10:74],
    "chelsea": data.chelsea()[::4, ::4][:64, 20:84],
}
for i in range(4):
    images[f"fmnist{i}"] = fmnist[i]
for name, image in images.items():
    assert image.dtype == np.uint8 and image.shape[:2] in ((64, 64), (28, 28)), (name, image.shape)
    put(f"image.{name}", planar(image))

# HOG: every block norm with and without transform_sqrt on gray images; a color image (channel_axis=-1); odd cells,
# 3x3 blocks and 8 orientations (bin edges at multiples of 22.5 and 45 degrees, hit exactly by integer gradients).
hog_cases = []
for name in ("camera", "fmnist0", "fmnist1", "fmnist2", "fmnist3", "astronaut"):
    image = images[name]
    color_image = image.ndim == 3
    cell = 4 if name.startswith("fmnist") else 8
    for norm in ("L1", "L1-sqrt", "L2", "L2-Hys"):
        for sqrt in (False, True):
            hog_cases.append((name, 9, cell, 2, norm, sqrt))
    if not name.startswith("fmnist"):
        hog_cases.append((name, 8, 5, 3, "L2-Hys", False))
        hog_cases.append((name, 12, 7, 1, "L1", True))
case_names = []
for (name, orientations, cell, block, norm, sqrt) in hog_cases:
    image = images[name]
    h = feature.hog(image, orientations=orientations, pixels_per_cell=(cell, cell), cells_per_block=(block, block),
                    block_norm=norm, transform_sqrt=sqrt, feature_vector=True,
                    channel_axis=-1 if image.ndim == 3 else None)
    case = f"o{orientations}_c{cell}_b{block}_{norm}_{'sqrt' if sqrt else 'raw'}"
    put(f"hog.{name}.{case}", h.astype(np.float32))
    case_names.append(f"{name}.{case}")
metadata["hog_cases"] = ";".join(case_names)

# LBP (P=8, R=1) on gray images.
for name in ("camera", "fmnist0", "fmnist3"):
    for method in ("uniform", "ror", "default"):
        put(f"lbp.{name}.{method}", feature.local_binary_pattern(images[name], 8, 1, method).astype(np.float32))

# Gabor kernels and responses.
gabor_params = [(0.1, 0.0), (0.25, np.pi / 4), (0.3, np.pi / 3), (0.15, 1.0), (0.4, np.pi / 2)]
metadata["gabor_params"] = ";".join(f"{f!r},{t!r}" for f, t in gabor_params)
for i, (frequency, theta) in enumerate(gabor_params):
    k = filters.gabor_kernel(frequency, theta=theta)
    put(f"gabor_kernel.{i}.real", k.real.astype(np.float64))
    put(f"gabor_kernel.{i}.imag", k.imag.astype(np.float64))
    for name in ("camera", "fmnist1") if i in (0, 1, 3) else ("fmnist1",):
        real, imag = filters.gabor(images[name].astype(np.float64), frequency, theta=theta)
        put(f"gabor.{name}.{i}.real", real.astype(np.float32))
        put(f"gabor.{name}.{i}.imag", imag.astype(np.float32))

# HSV
for name in ("astronaut", "coffee", "chelsea"):
    hsv = color.rgb2hsv(images[name])
    put(f"hsv.{name}", planar(hsv).astype(np.float64))
    for bins in (7, 10, 32):
        counts = [np.histogram(hsv[..., ch], bins=bins, range=(0, 1))[0] for ch in range(3)]
        put(f"hsv_histogram.{name}.{bins}", np.concatenate(counts).astype(np.int32))

write_safetensors(os.path.join(HERE, "features.safetensors"))
print(f"wrote {len(tensors)} tensors, {os.path.getsize(os.path.join(HERE, 'features.safetensors'))} bytes")
