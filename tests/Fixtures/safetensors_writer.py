"""The safetensors layout (8-byte little-endian header length, JSON header padded to 8 bytes, raw little-endian data),
written without the safetensors package, for the fixture scripts next to this file."""
import json
import struct

import numpy as np

DTYPES = {np.dtype(np.uint8): "U8", np.dtype(np.int32): "I32", np.dtype(np.float32): "F32", np.dtype(np.float64): "F64"}


def write(path, tensors, metadata):
    """Writes the name -> numpy array mapping `tensors` (in its order) and the string -> string `metadata`."""
    header = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPES[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
