#!/usr/bin/env python3
"""The baseline: a straightforward numpy + safetensors streaming DeMe merge,
out = base + sum_i w_i (ft_i - base), computed in float32 tensor by tensor (DeMe's torch order:
the sum first, then the base added, as tvtool does) and streamed to a
safetensors file (header first, then each tensor), so it never holds the whole model either.

usage: merge_numpy.py OUT BASE FT1 FT2 ... --weights 0.1,0.1,0.2,0.5
"""
import argparse
import json
import os
import struct

import numpy as np
from safetensors import safe_open

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("base")
ap.add_argument("models", nargs="+")
ap.add_argument("--weights", required=True)
a = ap.parse_args()
w = [np.float32(x) for x in a.weights.split(",")]

base = safe_open(a.base, "np")
fts = [safe_open(m, "np") for m in a.models]
keys = sorted(base.keys())
header, off, dtypes = {"__metadata__": {"format": "pt"}}, 0, {}
for k in keys:
    sl = base.get_slice(k)
    dt = sl.get_dtype()
    shape = sl.get_shape()
    n = int(np.prod(shape)) if shape else 1
    width = {"F16": 2, "F32": 4, "BF16": 2, "F64": 8, "I64": 8, "I32": 4}[dt]
    header[k] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + n * width]}
    off += n * width
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
tmp = a.out + ".tmp"
with open(tmp, "wb") as f:
    f.write(struct.pack("<Q", len(h)))
    f.write(h)
    for k in keys:
        b = base.get_tensor(k)
        b32 = b.astype(np.float32)
        acc = np.zeros_like(b32)
        for wi, ft in zip(w, fts):
            acc += wi * (ft.get_tensor(k).astype(np.float32) - b32)
        f.write((b32 + acc).astype(b.dtype).tobytes())
os.replace(tmp, a.out)
