#!/usr/bin/env python3
"""Synthetic checkpoints shaped like the Stable Diffusion 1.x UNet (diffusers key names, ~860M
parameters, ~686 tensors): a base and N finetuned copies (base + small noise), written as
safetensors in F16 or F32. Benchmark data only: written under /tmp, never committed.

usage: make_unet.py OUTDIR --dtype f16|f32 [--models 4] [--scale 1.0]
--scale < 1 shrinks every channel count by sqrt(scale) (≈ scale × the parameters) for quick runs.
"""
import argparse
import json
import math
import os
import struct

import numpy as np


def unet_shapes(scale=1.0):
    f = math.sqrt(scale)
    ch = lambda c: max(8, int(round(c * f / 8)) * 8)
    C = [ch(320), ch(640), ch(1280), ch(1280)]
    T = ch(1280)
    X = 768  # text-encoder width (cross-attention keys/values)
    s = {}

    def conv(name, o, i, k=3):
        s[name + ".weight"] = (o, i, k, k)
        s[name + ".bias"] = (o,)

    def lin(name, o, i, bias=True):
        s[name + ".weight"] = (o, i)
        if bias:
            s[name + ".bias"] = (o,)

    def norm(name, c):
        s[name + ".weight"] = (c,)
        s[name + ".bias"] = (c,)

    def resnet(p, i, o):
        norm(p + ".norm1", i)
        conv(p + ".conv1", o, i)
        lin(p + ".time_emb_proj", o, T)
        norm(p + ".norm2", o)
        conv(p + ".conv2", o, o)
        if i != o:
            conv(p + ".conv_shortcut", o, i, 1)

    def attention(p, c):
        norm(p + ".norm", c)
        conv(p + ".proj_in", c, c, 1)
        b = p + ".transformer_blocks.0"
        for n in ("norm1", "norm2", "norm3"):
            norm(f"{b}.{n}", c)
        for a, kv in (("attn1", c), ("attn2", X)):
            lin(f"{b}.{a}.to_q", c, c, bias=False)
            lin(f"{b}.{a}.to_k", c, kv, bias=False)
            lin(f"{b}.{a}.to_v", c, kv, bias=False)
            lin(f"{b}.{a}.to_out.0", c, c)
        lin(f"{b}.ff.net.0.proj", 8 * c, c)
        lin(f"{b}.ff.net.2", c, 4 * c)
        conv(p + ".proj_out", c, c, 1)

    conv("conv_in", C[0], 4)
    lin("time_embedding.linear_1", T, C[0])
    lin("time_embedding.linear_2", T, T)
    prev = C[0]
    for i, c in enumerate(C):
        for j in range(2):
            resnet(f"down_blocks.{i}.resnets.{j}", prev if j == 0 else c, c)
            if i < 3:
                attention(f"down_blocks.{i}.attentions.{j}", c)
        if i < 3:
            conv(f"down_blocks.{i}.downsamplers.0.conv", c, c)
        prev = c
    resnet("mid_block.resnets.0", C[3], C[3])
    attention("mid_block.attentions.0", C[3])
    resnet("mid_block.resnets.1", C[3], C[3])
    rev = C[::-1]
    prev_out = C[3]
    for i, out in enumerate(rev):
        inp = rev[min(i + 1, 3)]
        for j in range(3):
            skip = inp if j == 2 else out
            rin = prev_out if j == 0 else out
            resnet(f"up_blocks.{i}.resnets.{j}", rin + skip, out)
            if i > 0:
                attention(f"up_blocks.{i}.attentions.{j}", out)
        if i < 3:
            conv(f"up_blocks.{i}.upsamplers.0.conv", out, out)
        prev_out = out
    norm("conv_norm_out", C[0])
    conv("conv_out", 4, C[0])
    return s


def write(path, shapes, dtype, fill):
    """Streams a safetensors file: header first, then each tensor (never the whole model in memory)."""
    name = {"f16": "F16", "f32": "F32"}[dtype]
    width = {"f16": 2, "f32": 4}[dtype]
    header, off = {"__metadata__": {"format": "pt"}}, 0
    keys = sorted(shapes)
    for k in keys:
        n = int(np.prod(shapes[k])) if shapes[k] else 1
        header[k] = {"dtype": name, "shape": list(shapes[k]), "data_offsets": [off, off + n * width]}
        off += n * width
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for k in keys:
            f.write(np.ascontiguousarray(fill(k, shapes[k]).astype(np.float16 if dtype == "f16" else np.float32)).tobytes())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--dtype", choices=["f16", "f32"], default="f16")
    ap.add_argument("--models", type=int, default=4)
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    shapes = unet_shapes(a.scale)
    params = sum(int(np.prod(v)) if v else 1 for v in shapes.values())
    print(f"{len(shapes)} tensors, {params / 1e6:.1f}M parameters, largest {max(int(np.prod(v)) for v in shapes.values()) / 1e6:.2f}M")

    def base_fill(k, shape):
        rng = np.random.default_rng(abs(hash((k, "base"))) % (2**32))
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.05)

    write(os.path.join(a.outdir, "base.safetensors"), shapes, a.dtype, base_fill)
    for m in range(a.models):
        def ft_fill(k, shape, m=m):
            rng = np.random.default_rng(abs(hash((k, m))) % (2**32))
            return base_fill(k, shape) + rng.standard_normal(shape, dtype=np.float32) * np.float32(0.002)
        write(os.path.join(a.outdir, f"ft{m + 1}.safetensors"), shapes, a.dtype, ft_fill)
    print("wrote", a.outdir)


if __name__ == "__main__":
    main()
