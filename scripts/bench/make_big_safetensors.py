#!/usr/bin/env python3
"""Streams a large synthetic safetensors file to disk (for benchmarks; never committed).

usage: make_big_safetensors.py OUT TOTAL_BYTES N_TENSORS [--zeros]
Tensors are F32 with sizes varying around TOTAL_BYTES / N_TENSORS (largest at most 4x the mean),
filled with normal(0, 0.02) values (or zeros with --zeros, which is faster to write).
The header is built with the standard layout, the data written chunk by chunk, so memory stays small.
"""
import json
import struct
import sys

import numpy as np

out, total, count = sys.argv[1], int(float(sys.argv[2])), int(sys.argv[3])
zeros = "--zeros" in sys.argv
rng = np.random.default_rng(0)
weights = np.array([1, 2, 4, 0.5, 1, 1.5, 0.25, 1] * (count // 8 + 1))[:count]
sizes = np.maximum(1, (weights / weights.sum() * total / 4).astype(np.int64))
header, offset = {"__metadata__": {"format": "pt"}}, 0
for i, n in enumerate(sizes):
    header[f"down_blocks.{i // 10}.layer{i % 10}.weight"] = {"dtype": "F32", "shape": [int(n)], "data_offsets": [offset, offset + int(n) * 4]}
    offset += int(n) * 4
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
chunk = 1 << 22
block = np.zeros(chunk, np.float32) if zeros else (rng.standard_normal(chunk) * 0.02).astype(np.float32)
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    for n in sizes:
        left = int(n)
        while left > 0:
            k = min(left, chunk)
            f.write(block[:k].tobytes())
            left -= k
print(f"{out}: {offset + 8 + len(h)} bytes, {count} tensors, largest {int(sizes.max()) * 4} bytes")
