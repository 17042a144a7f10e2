#!/usr/bin/env python3
"""Synthetic checkpoints for the merge-method benchmark against mergekit: a base and N finetuned
models with UNet-like shapes (linear 2-D weights, 4-D conv weights, 1-D biases/norms), float32
safetensors files that both `mergekit-pytorch` and `tvtool merge` read.

usage: make_models.py DIR [--models 4] [--scale 1.0]
"""
import argparse
import pathlib

import numpy as np
from safetensors.numpy import save_file


def shapes(scale):
    c = max(8, int(320 * scale))
    out = {}
    for b, mult in enumerate([1, 2, 2]):
        w = c * mult
        out[f"down.{b}.conv.weight"] = (w, w, 3, 3)
        out[f"down.{b}.conv.bias"] = (w,)
        out[f"down.{b}.attn.to_q.weight"] = (w, w)
        out[f"down.{b}.attn.to_out.weight"] = (w, w)
        out[f"down.{b}.ff.weight"] = (4 * w, w)
        out[f"down.{b}.norm.weight"] = (w,)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--models", type=int, default=4)
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    d = pathlib.Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(15)
    base = {k: (rng.standard_normal(s) * 0.05).astype(np.float32) for k, s in shapes(a.scale).items()}
    save_file(base, str(d / "base.safetensors"), metadata={"format": "pt"})
    for i in range(a.models):
        ft = {k: (v + rng.standard_normal(v.shape).astype(np.float32) * np.float32(0.002 * (i + 1))) for k, v in base.items()}
        save_file(ft, str(d / f"ft{i + 1}.safetensors"), metadata={"format": "pt"})
    print(sum(v.nbytes for v in base.values()), "bytes per model")


if __name__ == "__main__":
    main()
