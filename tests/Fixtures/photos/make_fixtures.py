#!/usr/bin/python3
"""Reference fixtures for the photo formats of SharpVision.Imaging: GIF, BMP, WebP and EXIF-oriented JPEG.

Run with Debian's interpreter (python3-pil, python3-numpy) from any folder:
    /usr/bin/python3 tests/Fixtures/photos/make_fixtures.py

Oracle: PIL (Pillow 9.4, linked against Debian's libwebp and libjpeg-turbo) decodes every file; the reference is
PIL's convert("RGB") (gray JPEGs: convert("L")), after ImageOps.exif_transpose for the EXIF JPEGs. Transparency and
alpha are dropped, not composited: a transparent GIF pixel keeps its palette color, as PIL's convert("RGB") does.

Raw pixel files (*.raw): three little-endian int32 (width, height, channels), then height*width*channels bytes,
row-major, channels interleaved (the layout of SharpVision's Image).

GIFs and BMPs are written by the small writers below (not PIL), so that what PIL cannot write is covered: local
palettes, frame offsets, interlacing, transparency, a second frame, a full LZW table without a clear code, 4- and
16-bit BMPs, bit fields, top-down rows, V4/V5 and OS/2 core headers. One GIF is PIL's own. The random generator is
seeded and every writer is deterministic, so the files regenerate byte for byte.
"""
import io
import os
import struct

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261203)
W, H = 23, 17  # odd width: BMP row padding and partial bytes in 1/4-bit rows


def write_raw(name, array):
    a = np.asarray(array, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    h, w, c = a.shape
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(struct.pack("<iii", w, h, c))
        f.write(np.ascontiguousarray(a).tobytes())


def write_file(name, data):
    path = os.path.join(HERE, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def pil_rgb(path):
    im = Image.open(path)
    im.load()
    return np.array(im.convert("RGB"))


def indices(h, w, n):
    """Blocks plus noise over n palette entries: compressible, yet every entry appears."""
    y, x = np.mgrid[0:h, 0:w]
    return ((x // 3 + y // 2 * 5 + rng.integers(0, 3, size=(h, w))) % n).astype(np.int64)


# ---------------------------------------------------------------- GIF
def lzw(pixels, min_size, clear_when_full=True):
    """GIF LZW: returns the code stream packed LSB first. With clear_when_full=False, a full table stays full."""
    clear, end = 1 << min_size, (1 << min_size) + 1
    out, acc, nbits = bytearray(), 0, 0

    def emit(code, size):
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += size
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    def reset():
        return {(i,): i for i in range(clear)}, end + 1, min_size + 1

    table, next_code, size = reset()
    emit(clear, size)
    current = ()
    for p in pixels:
        candidate = current + (int(p),)
        if candidate in table:
            current = candidate
            continue
        emit(table[current], size)
        if next_code < 4096:
            table[candidate] = next_code
            next_code += 1
            if next_code > (1 << size) and size < 12:
                size += 1
        elif clear_when_full:
            emit(clear, size)
            table, next_code, size = reset()
        current = (int(p),)
    emit(table[current], size)
    emit(end, size)
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def sub_blocks(data):
    out = bytearray()
    for i in range(0, len(data), 255):
        piece = data[i:i + 255]
        out.append(len(piece))
        out += piece
    out.append(0)
    return bytes(out)


def table_bits(n):
    bits = 1
    while (1 << bits) < n:
        bits += 1
    return bits


def palette_bytes(palette):
    bits = table_bits(len(palette))
    padded = np.zeros((1 << bits, 3), dtype=np.uint8)
    padded[:len(palette)] = palette
    return padded.tobytes(), bits


INTERLACE = [(0, 8), (4, 8), (2, 4), (1, 2)]


def gif_frame(pix, left, top, local=None, interlace=False, transparent=None, clear_when_full=True):
    h, w = pix.shape
    out = b""
    if transparent is not None:
        out += b"\x21\xF9\x04" + bytes([1, 0, 0, transparent, 0])
    flags = 0x40 if interlace else 0
    table = b""
    if local is not None:
        table, bits = palette_bytes(local)
        flags |= 0x80 | (bits - 1)
    out += b"\x2C" + struct.pack("<HHHH", left, top, w, h) + bytes([flags]) + table
    rows = [y for start, step in INTERLACE for y in range(start, h, step)] if interlace else list(range(h))
    n = max(int(pix.max()) + 1, len(local) if local is not None else 0, 4)
    min_size = max(2, table_bits(n))
    out += bytes([min_size]) + sub_blocks(lzw(pix[rows].reshape(-1), min_size, clear_when_full))
    return out


def write_gif(name, screen, global_palette, frames, version=b"89a", background=0, comment=True):
    sw, sh = screen
    flags, table = 0, b""
    if global_palette is not None:
        table, bits = palette_bytes(global_palette)
        flags = 0x80 | 0x70 | (bits - 1)
    data = b"GIF" + version + struct.pack("<HH", sw, sh) + bytes([flags, background, 0]) + table
    if comment:
        data += b"\x21\xFE" + sub_blocks(b"SharpVision fixture")
    for frame in frames:
        data += frame
    data += b"\x3B"
    return write_file(name, data)


def gif_fixtures():
    pal256 = rng.integers(0, 256, size=(256, 3))
    pal16 = rng.integers(0, 256, size=(16, 3))
    pal4 = np.array([[250, 250, 250], [10, 20, 30], [200, 40, 40], [40, 200, 40]])
    cases = {
        "gif_global": ((W, H), pal16, [gif_frame(indices(H, W, 16), 0, 0)]),
        "gif_interlaced": ((W, H), pal16, [gif_frame(indices(H, W, 16), 0, 0, interlace=True)]),
        # Frame smaller than the screen, with its own palette and a transparent index; a second frame PIL and we skip.
        "gif_local_transparent": ((W, H), pal4, [gif_frame(indices(11, 15, 16), 5, 3, local=pal16, transparent=2),
                                                 gif_frame(indices(4, 4, 4), 0, 0)]),
        "gif_offset": ((W, H), pal16, [gif_frame(indices(9, 12, 16), 7, 6)], 5),
        "gif_interlaced_local": ((W, H), None, [gif_frame(indices(H, W, 16), 0, 0, local=pal16, interlace=True,
                                                          transparent=0)]),
        # 256 colors over 80x60: the table fills; the first clears, the second keeps using the full table.
        "gif_table_clears": ((80, 60), pal256, [gif_frame(rng.integers(0, 256, size=(60, 80)), 0, 0)]),
        "gif_table_full": ((80, 60), pal256, [gif_frame(rng.integers(0, 256, size=(60, 80)), 0, 0,
                                                        clear_when_full=False)]),
    }
    for name, (screen, palette, frames, *background) in cases.items():
        path = write_gif(name + ".gif", screen, palette, frames, background=background[0] if background else 0)
        write_raw(name + ".raw", pil_rgb(path))
    path = write_gif("gif_87a.gif", (W, H), pal4, [gif_frame(indices(H, W, 4), 0, 0)], version=b"87a", comment=False)
    write_raw("gif_87a.raw", pil_rgb(path))
    # PIL's own encoder, saved under a .jpg name: decoding goes by content.
    im = Image.fromarray(indices(H, W, 200).astype(np.uint8), "P")
    im.putpalette(bytes(rng.integers(0, 256, size=768).astype(np.uint8)))
    buffer = io.BytesIO()
    im.save(buffer, "GIF", interlace=False)
    path = write_file("gif_named.jpg", buffer.getvalue())
    write_raw("gif_named.raw", pil_rgb(path))
    # A first frame reaching past a 10x8 logical screen: the image grows to hold it (own generator: the cases above
    # keep their bytes).
    local = np.random.default_rng(7)
    frame = gif_frame(local.integers(0, 16, size=(9, 12)), 5, 4)
    path = write_gif("gif_frame_past_screen.gif", (10, 8), local.integers(0, 256, size=(16, 3)), [frame])
    write_raw("gif_frame_past_screen.raw", pil_rgb(path))


# ---------------------------------------------------------------- BMP
def bmp_rows(pix, bits):
    """pix: (H, W) indices or (H, W, k) bytes already in file order; rows padded to 4 bytes."""
    rows = []
    for row in pix:
        if bits < 8:
            flat = "".join(format(int(v), "0%db" % bits) for v in row)
            flat += "0" * (-len(flat) % 8)
            data = bytes(int(flat[i:i + 8], 2) for i in range(0, len(flat), 8))
        elif bits == 16:
            data = np.asarray(row, dtype="<u2").tobytes()
        else:
            data = np.asarray(row, dtype=np.uint8).tobytes()
        rows.append(data + b"\0" * (-len(data) % 4))
    return rows


def write_bmp(name, pix, bits, palette=None, top_down=False, header=40, compression=0, masks=None):
    h, w = pix.shape[:2]
    rows = bmp_rows(pix, bits)
    body = b"".join(rows if top_down else rows[::-1])
    table = b""
    if palette is not None:
        entry = 3 if header == 12 else 4
        table = b"".join(bytes([b, g, r, 0][:entry]) for r, g, b in palette)
    if header == 12:
        info = struct.pack("<IHHHH", 12, w, h, 1, bits)
    else:
        info = struct.pack("<IiiHHIIiiII", header, w, -h if top_down else h, 1, bits, compression, len(body),
                           2835, 2835, len(palette) if palette is not None else 0, 0)
        if header == 40 and masks is not None:
            info += struct.pack("<III", *masks[:3])
        elif header > 40:
            m = (masks or (0, 0, 0, 0)) + (0,) * 4
            info += struct.pack("<IIII", *m[:4]) + b"\0" * (header - 56)
            if header >= 108:
                info = info[:56] + struct.pack("<I", 0x73524742) + info[60:]  # 'sRGB'
    offset = 14 + len(info) + len(table)
    data = b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset) + info + table + body
    return write_file(name, data)


def bmp_fixtures():
    def pal(n):
        return rng.integers(0, 256, size=(n, 3))

    rgb = rng.integers(0, 256, size=(H, W, 3))
    bgr = rgb[:, :, ::-1]
    bgrx = np.concatenate([bgr, rng.integers(0, 256, size=(H, W, 1))], axis=2)
    r5, g5, b5 = (rgb >> 3).transpose(2, 0, 1)
    g6 = rgb[:, :, 1] >> 2
    cases = [
        ("bmp_1", lambda n: write_bmp(n, indices(H, W, 2), 1, pal(2))),
        ("bmp_4", lambda n: write_bmp(n, indices(H, W, 16), 4, pal(16))),
        ("bmp_4_topdown", lambda n: write_bmp(n, indices(H, W, 16), 4, pal(16), top_down=True)),
        ("bmp_8", lambda n: write_bmp(n, indices(H, W, 256), 8, pal(256))),
        ("bmp_8_short_palette", lambda n: write_bmp(n, indices(H, W, 20), 8, pal(20))),
        ("bmp_8_topdown", lambda n: write_bmp(n, indices(H, W, 256), 8, pal(256), top_down=True)),
        ("bmp_16_555", lambda n: write_bmp(n, (r5 << 10) | (g5 << 5) | b5, 16)),
        ("bmp_16_565", lambda n: write_bmp(n, (r5 << 11) | (g6 << 5) | b5, 16, compression=3,
                                           masks=(0xF800, 0x07E0, 0x001F))),
        ("bmp_24", lambda n: write_bmp(n, bgr, 24)),
        ("bmp_24_topdown", lambda n: write_bmp(n, bgr, 24, top_down=True)),
        ("bmp_24_core", lambda n: write_bmp(n, bgr, 24, header=12)),
        ("bmp_8_core", lambda n: write_bmp(n, indices(H, W, 256), 8, pal(256), header=12)),
        ("bmp_32", lambda n: write_bmp(n, bgrx, 32)),
        ("bmp_32_bitfields", lambda n: write_bmp(n, bgrx, 32, compression=3, masks=(0xFF0000, 0xFF00, 0xFF))),
        ("bmp_32_v4_topdown", lambda n: write_bmp(n, bgrx, 32, top_down=True, header=108, compression=3,
                                                  masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000))),
        ("bmp_32_v5", lambda n: write_bmp(n, bgrx, 32, header=124, compression=3,
                                          masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000))),
        ("bmp_24_v5", lambda n: write_bmp(n, bgr, 24, header=124)),
    ]
    for name, make in cases:
        path = make(name + ".bmp")
        write_raw(name + ".raw", pil_rgb(path))
    # A BMP under a .png name: decoding goes by content.
    path = write_bmp("bmp_named.png", bgr, 24)
    write_raw("bmp_named.raw", pil_rgb(path))


# ---------------------------------------------------------------- WebP
def photo(h, w):
    y, x = np.mgrid[0:h, 0:w]
    r = 128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)
    g = 128 + 90 * np.cos((x + y) / 6.0)
    b = 255 * x / w * (y % 9 < 5) + 30
    img = np.stack([r, g, b], axis=2) + rng.normal(0, 6, size=(h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def webp_fixtures():
    rgb = Image.fromarray(photo(29, 37))
    alpha = Image.fromarray(rng.integers(1, 256, size=(29, 37)).astype(np.uint8), "L")
    rgba = rgb.copy()
    rgba.putalpha(alpha)
    for name, im, options in (("webp_lossless", rgb, dict(lossless=True)),
                              ("webp_lossless_alpha", rgba, dict(lossless=True, exact=True)),
                              ("webp_lossy", rgb, dict(quality=80, method=4))):
        path = os.path.join(HERE, name + ".webp")
        im.save(path, "WEBP", **options)
        write_raw(name + ".raw", pil_rgb(path))


# ---------------------------------------------------------------- EXIF JPEG
def exif_block(orientation, big_endian, extra_entries=0):
    """APP1 payload: 'Exif\\0\\0' + a TIFF header + IFD0 holding Orientation (and filler entries before it)."""
    e = ">" if big_endian else "<"
    entries = [struct.pack(e + "HHI", 0x010F, 2, 4) + b"Cam\0"] * extra_entries
    entries.append(struct.pack(e + "HHIH", 0x0112, 3, 1, orientation) + b"\0\0")
    tiff = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    tiff += struct.pack(e + "H", len(entries)) + b"".join(entries) + struct.pack(e + "I", 0)
    return b"Exif\0\0" + tiff


def exif_fixtures():
    rgb = Image.fromarray(photo(29, 37))
    for orientation in range(1, 9):
        name = "exif_%d" % orientation
        path = os.path.join(HERE, name + ".jpg")
        rgb.save(path, "JPEG", quality=90, exif=exif_block(orientation, big_endian=orientation % 2 == 0,
                                                          extra_entries=orientation % 3))
        write_raw(name + ".raw", np.array(ImageOps.exif_transpose(Image.open(path)).convert("RGB")))
    path = os.path.join(HERE, "exif_6_gray.jpg")
    rgb.convert("L").save(path, "JPEG", quality=90, exif=exif_block(6, big_endian=False))
    write_raw("exif_6_gray.raw", np.array(ImageOps.exif_transpose(Image.open(path)).convert("L")))
    # Broken EXIF: IFD0 offset past the block. The decode ignores it (orientation 1).
    broken = b"Exif\0\0II" + struct.pack("<HI", 42, 0x7FFFFFF0) + b"\0" * 8
    path = os.path.join(HERE, "exif_broken.jpg")
    rgb.save(path, "JPEG", quality=90, exif=broken)
    write_raw("exif_broken.raw", pil_rgb(path))


def main():
    import warnings
    warnings.simplefilter("ignore", UserWarning)  # PIL notes the broken EXIF block; it is broken on purpose
    gif_fixtures()
    bmp_fixtures()
    webp_fixtures()
    exif_fixtures()
    files = [f for f in os.listdir(HERE) if f != os.path.basename(__file__)]
    total = sum(os.path.getsize(os.path.join(HERE, f)) for f in files)
    print("fixtures written, %d files, %d bytes" % (len(files), total))


if __name__ == "__main__":
    main()
