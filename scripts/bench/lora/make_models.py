#!/usr/bin/env python3
"""Synthetic SD-sized weights for the LoRA bench: N linear 1280x1280 and N conv 640x640x3x3 (F16)
in diffusers UNet naming, base and finetuned (base + a low-rank-plus-noise update).
Usage: make_models.py DIR N"""
import pathlib
import sys

import numpy as np
from safetensors.numpy import save_file

out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(7)
base, ft = {}, {}
for i in range(n):
    for name, shape in [(f"up_blocks.{i}.attentions.0.proj_in.weight", (1280, 1280)),
                        (f"down_blocks.{i}.resnets.0.conv1.weight", (640, 640, 3, 3))]:
        w = rng.standard_normal(shape, dtype=np.float32) * 0.02
        m = shape[0]
        low = rng.standard_normal((m, 8), dtype=np.float32) @ rng.standard_normal((8, int(np.prod(shape[1:]))), dtype=np.float32)
        d = 1e-3 * low.reshape(shape) + 1e-4 * rng.standard_normal(shape, dtype=np.float32)
        base[name], ft[name] = w.astype(np.float16), (w + d).astype(np.float16)
save_file(base, str(out / "base.safetensors"))
save_file(ft, str(out / "ft.safetensors"))
