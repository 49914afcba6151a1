#!/usr/bin/python3
"""Reference fixtures for SharpVision.Imaging tests.

Run with Debian's interpreter from this folder:
    apt-get install -y python3-pil python3-opencv python3-numpy
    /usr/bin/python3 make_fixtures.py

Oracles: PIL (Pillow, linked against Debian's libjpeg-turbo) decodes every PNG/JPEG,
PIL's convert("L") is the ToGray oracle, cv2.resize(INTER_AREA) the Resize oracle.

Raw pixel files (*.raw): a 12-byte header of three little-endian int32
(width, height, channels) followed by height*width*channels bytes, row-major,
channels interleaved (the layout of SharpVision's Image).

PNGs are written by the small encoder below (not PIL) so that every color type,
bit depth, all five filter types (row y uses filter y % 5) and Adam7 interlacing
are covered; PIL then decodes them as the oracle. Decoded pixels follow PIL:
gray types -> convert("L"), others -> convert("RGB") (alpha dropped, palette
expanded). The one exception is 16-bit gray, which PIL opens as mode "I;16" and
whose convert("L") clamps; its reference is the high byte of PIL's 16-bit values
(what PIL itself does for 16-bit RGB/RGBA/LA).
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image
import cv2

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240611)


def write_raw(name, array):
    a = np.asarray(array, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    h, w, c = a.shape
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(struct.pack("<iii", w, h, c))
        f.write(np.ascontiguousarray(a).tobytes())


def pil_reference(path, gray=None, sixteen_bit_gray=False):
    """gray=None: decide by PIL's mode. PIL opens 16-bit gray+alpha as RGBA, so PNG callers pass gray explicitly."""
    im = Image.open(path)
    im.load()
    if sixteen_bit_gray:
        return (np.array(im).astype(np.uint32) >> 8).astype(np.uint8)
    if gray is None:
        gray = im.mode in ("1", "L", "LA", "I;16", "I;16B", "I")
    return np.array(im.convert("L" if gray else "RGB"))


# ---------------------------------------------------------------- PNG writer
def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(rows, bpp):
    """rows: list of bytes (packed, unfiltered). Row y gets filter y % 5."""
    out = bytearray()
    prior = bytes(len(rows[0])) if rows else b""
    for y, row in enumerate(rows):
        ftype = y % 5
        out.append(ftype)
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prior[i]
            c = prior[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][ftype]
            out.append((x - pred) & 0xFF)
        prior = row
    return bytes(out)


def pack_row(samples, depth):
    """samples: 1-D int array of one row's samples (all channels interleaved)."""
    if depth == 8:
        return bytes(samples.astype(np.uint8))
    if depth == 16:
        return samples.astype(">u2").tobytes()
    bits = "".join(format(int(s), "0%db" % depth) for s in samples)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(name, samples, color_type, depth, palette=None, trns=None, interlace=False):
    """samples: (H, W, spp) integer array."""
    h, w, spp = samples.shape
    bpp = max(1, spp * depth // 8)
    raw = b""
    if interlace:
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += filter_rows([pack_row(r.reshape(-1), depth) for r in sub], bpp)
    else:
        raw = filter_rows([pack_row(r.reshape(-1), depth) for r in samples], bpp)
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0))
    png += chunk(b"tEXt", b"Comment\x00SharpVision fixture")
    if palette is not None:
        png += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        png += chunk(b"tRNS", trns)
    z = zlib.compress(raw, 9)
    # Split the zlib stream over several IDAT chunks to exercise the chunk walk.
    third = max(1, len(z) // 3)
    for i in range(0, len(z), third):
        png += chunk(b"IDAT", z[i:i + third])
    png += chunk(b"IEND", b"")
    path = os.path.join(HERE, name)
    with open(path, "wb") as f:
        f.write(png)
    return path


def smooth(h, w, spp, maxval):
    """Gradients plus noise: compressible, but every filter has work to do."""
    y, x = np.mgrid[0:h, 0:w]
    out = np.empty((h, w, spp), dtype=np.int64)
    for c in range(spp):
        base = (x * (c + 1) * 7 + y * (5 - c) * 3) / (w * 7 + h * 15)
        noise = rng.integers(0, max(2, maxval // 8), size=(h, w))
        out[:, :, c] = (base * maxval + noise) % (maxval + 1)
    return out


def png_fixtures():
    W, H = 23, 17
    cases = []
    for depth in (1, 2, 4, 8, 16):
        cases.append(("png_gray%d" % depth, 0, depth, smooth(H, W, 1, (1 << depth) - 1), None))
    for depth in (8, 16):
        cases.append(("png_rgb%d" % depth, 2, depth, smooth(H, W, 3, (1 << depth) - 1), None))
        cases.append(("png_graya%d" % depth, 4, depth, smooth(H, W, 2, (1 << depth) - 1), None))
        cases.append(("png_rgba%d" % depth, 6, depth, smooth(H, W, 4, (1 << depth) - 1), None))
    for depth in (1, 2, 4, 8):
        n = 1 << depth
        palette = rng.integers(0, 256, size=(min(n, 200), 3))
        indices = smooth(H, W, 1, len(palette) - 1)
        cases.append(("png_palette%d" % depth, 3, depth, indices, palette))
    for name, ct, depth, samples, palette in cases:
        path = write_png(name + ".png", samples, ct, depth, palette=palette,
                         trns=b"\x00\x80" if ct == 3 else None)
        write_raw(name + ".raw", pil_reference(path, gray=ct in (0, 4), sixteen_bit_gray=(ct == 0 and depth == 16)))
    # Adam7: RGB 8-bit, gray 4-bit (sub-byte rows per pass) and RGBA 16-bit.
    for name, ct, depth, spp in (("png_interlaced_rgb8", 2, 8, 3), ("png_interlaced_gray4", 0, 4, 1),
                                 ("png_interlaced_rgba16", 6, 16, 4)):
        path = write_png(name + ".png", smooth(H, W, spp, (1 << depth) - 1), ct, depth, interlace=True)
        write_raw(name + ".raw", pil_reference(path, gray=ct in (0, 4)))


# ---------------------------------------------------------------- JPEG
def photo(h, w):
    y, x = np.mgrid[0:h, 0:w]
    r = 128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)
    g = 128 + 90 * np.cos((x + y) / 6.0)
    b = 255 * x / w * (y % 9 < 5) + 30
    img = np.stack([r, g, b], axis=2) + rng.normal(0, 6, size=(h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def jpeg_fixtures():
    W, H = 37, 29  # not a multiple of 8 or 16: partial MCUs on both edges
    rgb = Image.fromarray(photo(H, W))
    gray = rgb.convert("L")
    saves = [
        ("jpeg_gray", gray, dict(quality=90)),
        ("jpeg_420", rgb, dict(quality=90, subsampling=2)),
        ("jpeg_422", rgb, dict(quality=85, subsampling=1)),
        ("jpeg_444", rgb, dict(quality=95, subsampling=0)),
        ("jpeg_progressive", rgb, dict(quality=90, subsampling=2, progressive=True)),
        ("jpeg_progressive_gray", gray, dict(quality=90, progressive=True)),
    ]
    for name, im, options in saves:
        path = os.path.join(HERE, name + ".jpg")
        im.save(path, "JPEG", **options)
        write_raw(name + ".raw", pil_reference(path))
    # Restart markers: Pillow 9 cannot set the restart interval, OpenCV can (libjpeg-turbo underneath).
    bgr = cv2.cvtColor(np.array(rgb), cv2.COLOR_RGB2BGR)
    for name, params in (("jpeg_restart", [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_RST_INTERVAL, 2]),
                         ("jpeg_restart_progressive", [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_RST_INTERVAL, 3,
                                                       cv2.IMWRITE_JPEG_PROGRESSIVE, 1])):
        path = os.path.join(HERE, name + ".jpg")
        ok, encoded = cv2.imencode(".jpg", bgr, params)
        assert ok
        with open(path, "wb") as f:
            f.write(encoded.tobytes())
        assert b"\xff\xd0" in encoded.tobytes(), name + ": no RST0 marker written"
        write_raw(name + ".raw", pil_reference(path))


# ---------------------------------------------------------------- ops
def ops_fixtures():
    W, H = 37, 29
    rgb = photo(H, W)
    write_raw("ops_rgb.raw", rgb)
    write_raw("ops_gray_pil.raw", np.array(Image.fromarray(rgb).convert("L")))
    for w, h in ((15, 11), (12, 9), (5, 3)):
        write_raw("ops_area_%dx%d.raw" % (w, h), cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA))


def main():
    import warnings
    warnings.simplefilter("ignore", UserWarning)  # PIL's note about palette tRNS; tRNS is ignored on purpose
    png_fixtures()
    jpeg_fixtures()
    ops_fixtures()
    total = sum(os.path.getsize(os.path.join(HERE, f)) for f in os.listdir(HERE))
    print("fixtures written, %d files, %d bytes" % (len(os.listdir(HERE)), total))


if __name__ == "__main__":
    main()
