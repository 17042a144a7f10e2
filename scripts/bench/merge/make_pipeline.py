#!/usr/bin/env python3
"""A synthetic SD-1.x-shaped diffusers pipeline (unet/, vae/, text_encoder/, model_index.json):
a base and N finetuned copies whose three parts all differ. Parameter counts at scale 1: UNet
~860M, VAE ~84M, CLIP text encoder ~123M (the real proportions); --scale shrinks every width by
sqrt(scale). Benchmark data only: written under /tmp, never committed.

usage: make_pipeline.py OUTDIR --dtype f16|f32 [--models 4] [--scale 1.0]
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_unet import unet_shapes, write  # noqa: E402


def vae_shapes(scale):
    f = math.sqrt(scale)
    ch = lambda c: max(8, int(round(c * f / 8)) * 8)
    C = [ch(128), ch(256), ch(512), ch(512)]
    s = {}

    def conv(n, o, i, k=3):
        s[n + ".weight"], s[n + ".bias"] = (o, i, k, k), (o,)

    def norm(n, c):
        s[n + ".weight"], s[n + ".bias"] = (c,), (c,)

    def resnet(p, i, o):
        norm(p + ".norm1", i); conv(p + ".conv1", o, i); norm(p + ".norm2", o); conv(p + ".conv2", o, o)
        if i != o:
            conv(p + ".conv_shortcut", o, i, 1)

    def attn(p, c):
        norm(p + ".group_norm", c)
        for n in ("to_q", "to_k", "to_v", "to_out.0"):
            s[f"{p}.{n}.weight"], s[f"{p}.{n}.bias"] = (c, c), (c,)

    conv("encoder.conv_in", C[0], 3)
    prev = C[0]
    for i, c in enumerate(C):
        for j in range(2):
            resnet(f"encoder.down_blocks.{i}.resnets.{j}", prev if j == 0 else c, c)
        if i < 3:
            conv(f"encoder.down_blocks.{i}.downsamplers.0.conv", c, c)
        prev = c
    for coder in ("encoder", "decoder"):
        resnet(f"{coder}.mid_block.resnets.0", C[3], C[3]); attn(f"{coder}.mid_block.attentions.0", C[3])
        resnet(f"{coder}.mid_block.resnets.1", C[3], C[3]); norm(f"{coder}.conv_norm_out", C[0])
    conv("encoder.conv_out", 8, C[0]); conv("quant_conv", 8, 8, 1); conv("post_quant_conv", 4, 4, 1)
    conv("decoder.conv_in", C[3], 4)
    rev, prev = C[::-1], C[3]
    for i, c in enumerate(rev):
        for j in range(3):
            resnet(f"decoder.up_blocks.{i}.resnets.{j}", prev if j == 0 else c, c)
        if i < 3:
            conv(f"decoder.up_blocks.{i}.upsamplers.0.conv", c, c)
        prev = c
    conv("decoder.conv_out", 3, C[0])
    return s


def text_shapes(scale):
    h = max(8, int(round(768 * math.sqrt(scale) / 8)) * 8)
    s = {"text_model.embeddings.token_embedding.weight": (49408, h), "text_model.embeddings.position_embedding.weight": (77, h),
         "text_model.final_layer_norm.weight": (h,), "text_model.final_layer_norm.bias": (h,)}
    for n in range(12):
        p = f"text_model.encoder.layers.{n}"
        for a in ("q_proj", "k_proj", "v_proj", "out_proj"):
            s[f"{p}.self_attn.{a}.weight"], s[f"{p}.self_attn.{a}.bias"] = (h, h), (h,)
        s[f"{p}.mlp.fc1.weight"], s[f"{p}.mlp.fc1.bias"] = (4 * h, h), (4 * h,)
        s[f"{p}.mlp.fc2.weight"], s[f"{p}.mlp.fc2.bias"] = (h, 4 * h), (h,)
        for ln in ("layer_norm1", "layer_norm2"):
            s[f"{p}.{ln}.weight"], s[f"{p}.{ln}.bias"] = (h,), (h,)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--dtype", choices=["f16", "f32"], default="f16")
    ap.add_argument("--models", type=int, default=4)
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    parts = {"unet": (unet_shapes(a.scale), "diffusion_pytorch_model"), "vae": (vae_shapes(a.scale), "diffusion_pytorch_model"),
             "text_encoder": (text_shapes(a.scale), "model")}
    for name, (shapes, _) in parts.items():
        params = sum(int(np.prod(v)) for v in shapes.values())
        print(f"{name}: {len(shapes)} tensors, {params / 1e6:.1f}M parameters")
    index = {"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"],
             "vae": ["diffusers", "AutoencoderKL"], "text_encoder": ["transformers", "CLIPTextModel"]}
    for m in range(a.models + 1):
        folder = os.path.join(a.outdir, "base" if m == 0 else f"ft{m}")
        for name, (shapes, stem) in parts.items():
            os.makedirs(os.path.join(folder, name), exist_ok=True)

            def fill(k, shape, name=name, m=m):
                rng = np.random.default_rng(abs(hash((name, k, "base"))) % (2**32))
                v = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.05)
                if m:
                    v += np.random.default_rng(abs(hash((name, k, m))) % (2**32)).standard_normal(shape, dtype=np.float32) * np.float32(0.002)
                return v
            write(os.path.join(folder, name, stem + ".safetensors"), shapes, a.dtype, fill)
            with open(os.path.join(folder, name, "config.json"), "w") as f:
                json.dump({"_class_name": index[name][1]}, f)
        with open(os.path.join(folder, "model_index.json"), "w") as f:
            json.dump(index, f)
    print("wrote", a.outdir)


if __name__ == "__main__":
    main()
