#!/usr/bin/env python3
"""The UNet training step / evaluation of scripts/bench/unet_train_main.swift in PyTorch CPU:
diffusers' UNet2DModel (32×32, channels 32/64, AttnDownBlock2D at 16×16, 2 layers per block,
8 groups, one attention head), MSE on epsilon, grad-norm clip 1.0, AdamW + EMA; eval is
model(x, t) under no_grad. Prints "<rate> <CPU ms per step>" (steps/s for train, images/s for
eval). Usage: unet_train_torch.py train|eval THREADS STEPS [BATCH=64]"""
import sys
import time

import torch
import torch.nn.functional as F
from diffusers import UNet2DModel

mode, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
B = int(sys.argv[4]) if len(sys.argv) > 4 else 64
torch.set_num_threads(threads)
torch.manual_seed(0)
model = UNet2DModel(sample_size=32, in_channels=3, out_channels=3, block_out_channels=(32, 64),
                    down_block_types=("DownBlock2D", "AttnDownBlock2D"), up_block_types=("AttnUpBlock2D", "UpBlock2D"),
                    layers_per_block=2, attention_head_dim=None, norm_num_groups=8)
D = 3 * 32 * 32
data = torch.randn(512, 3, 32, 32)
betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
abar = torch.cumprod(1 - betas, 0)
sa, sn = abar.sqrt().float(), (1 - abar).sqrt().float()
ema = [p.detach().clone() for p in model.parameters()]
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
train = mode == "train"
if not train:
    model.eval()


def step(n):
    x0 = data[torch.randint(0, 512, (B,))]
    t = torch.randint(0, 1000, (B,))
    eps = torch.randn(B, 3, 32, 32)
    xt = sa[t][:, None, None, None] * x0 + sn[t][:, None, None, None] * eps
    if not train:
        with torch.no_grad():
            model(xt, t)
        return
    loss = F.mse_loss(model(xt, t).sample, eps)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    decay = min(0.9999, 1 - n ** -0.75)
    with torch.no_grad():
        torch._foreach_lerp_(ema, list(model.parameters()), 1 - decay)


for n in range(1, 3):
    step(n)
t0, c0 = time.perf_counter(), time.process_time()
for n in range(3, 3 + steps):
    step(n)
dt, dc = time.perf_counter() - t0, time.process_time() - c0
rate = steps / dt if train else steps * B / dt
print(f"{rate:.2f} {1000 * dc / steps:.1f}")
