#!/usr/bin/env python3
"""Writes a large synthetic HDF5 checkpoint with h5py (for benchmarks; never committed).

usage: make_big_hdf5.py OUT TOTAL_BYTES N_TENSORS [--gzip]
F32 datasets in nested groups (down_blocks/<i>/layer<j>/weight), sizes varying around
TOTAL_BYTES / N_TENSORS, values normal(0, 0.02). Contiguous by default; --gzip writes chunked,
gzip level 1 datasets instead. Written dataset by dataset, so memory stays small.
"""
import sys

import h5py
import numpy as np

out, total, count = sys.argv[1], int(float(sys.argv[2])), int(sys.argv[3])
gzip = "--gzip" in sys.argv
rng = np.random.default_rng(0)
weights = np.array([1, 2, 4, 0.5, 1, 1.5, 0.25, 1] * (count // 8 + 1))[:count]
sizes = np.maximum(1, (weights / weights.sum() * total / 4).astype(np.int64))
block = (rng.standard_normal(int(sizes.max())) * 0.02).astype(np.float32)
with h5py.File(out, "w") as f:
    f.attrs["format"] = "pt"
    for i, n in enumerate(sizes):
        kw = {"chunks": (min(int(n), 1 << 18),), "compression": "gzip", "compression_opts": 1} if gzip else {}
        f.create_dataset(f"down_blocks/{i // 10}/layer{i % 10}/weight", data=block[: int(n)], **kw)
