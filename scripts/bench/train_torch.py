#!/usr/bin/env python3
"""The same training step as `tvtool train` in PyTorch (CPU): the MLP denoiser of
fixtures/trainer/make.py at width 256, 4 blocks, time embedding 128, batch 128 on 8×8 digits;
AdamW, grad-norm clip 1.0, EMA with min(0.9999, 1 - n^-0.75), DDPM linear schedule.
Prints steps/s (after warm-up). Usage: train_torch.py THREADS STEPS"""
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

threads, steps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
D, d, blocks, E, B = 64, 256, 4, 128, 128


class MLPDenoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.time_embed = nn.Sequential(nn.Linear(E, d), nn.SiLU(), nn.Linear(d, d))
        self.input = nn.Linear(D, d)
        self.blocks = nn.ModuleList()
        for _ in range(blocks):
            m = nn.Module()
            m.fc1, m.fc2 = nn.Linear(d, d), nn.Linear(d, d)
            self.blocks.append(m)
        self.output = nn.Linear(d, D)
        half = E // 2
        self.register_buffer("freqs", torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half))

    def forward(self, x, t):
        a = t.float()[:, None] * self.freqs[None, :]
        h = self.input(x) + self.time_embed(torch.cat([torch.sin(a), torch.cos(a)], 1))
        for b in self.blocks:
            h = h + b.fc2(F.silu(b.fc1(F.silu(h))))
        return self.output(F.silu(h))


data = torch.tensor(np.load("fixtures/trainer/digits.npy").reshape(-1, 64).astype(np.float32) / 16 * 2 - 1)
betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
abar = torch.cumprod(1 - betas, 0)
sa, sn = abar.sqrt().float(), (1 - abar).sqrt().float()
model = MLPDenoiser()
ema = [p.detach().clone() for p in model.parameters()]
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0, eps=1e-8)


def step(n):
    idx = torch.randint(0, data.shape[0], (B,))
    x0 = data[idx]
    t = torch.randint(0, 1000, (B,))
    eps = torch.randn(B, D)
    xt = sa[t][:, None] * x0 + sn[t][:, None] * eps
    loss = F.mse_loss(model(xt, t), eps)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    decay = min(0.9999, 1 - n ** -0.75)
    with torch.no_grad():
        torch._foreach_lerp_(ema, list(model.parameters()), 1 - decay)
    return loss


for n in range(1, 21):
    step(n)
t0, c0 = time.perf_counter(), time.process_time()
for n in range(21, 21 + steps):
    step(n)
dt, dc = time.perf_counter() - t0, time.process_time() - c0
print(f"{steps / dt:.1f} {1000 * dc / steps:.2f}")  # steps/s (wall), CPU ms/step
