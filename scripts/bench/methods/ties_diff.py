#!/usr/bin/env python3
"""Where tvtool's TIES / breadcrumbs output differs from mergekit's, and why.

mergekit 0.1.5 (sparsify.magnitude / magnitude_outliers) keeps exactly k entries per task vector
by torch.argsort / torch.sort order, so among entries whose |tau| equals the k-th largest it keeps
an arbitrary subset; tvtool keeps every entry tied with the threshold (docs: exact k-th largest,
ties all kept). This script recomputes mergekit's formula in torch (its generalized_task_arithmetic
merge_group, float32) twice per tensor: with mergekit's argsort masks, and with tie-inclusive
masks. It prints, per method, the largest |tvtool - mergekit| (absolute, and relative to the
tensor's largest |value|), whether every differing element has a model whose |tau| sits exactly at
a threshold, and the largest differences of the tie-inclusive recomputation from tvtool and of
the argsort recomputation from mergekit's file.

usage (in the mergekit virtualenv): ties_diff.py DIR METHOD TVTOOL_OUT MERGEKIT_OUT  (METHOD: ties|breadcrumbs)
"""
import sys

import torch
from safetensors.torch import load_file

d, method, tv_path, mk_path = sys.argv[1:5]
W = torch.tensor([0.1, 0.1, 0.2, 0.5])
density, gamma = (0.2, 0.0) if method == "ties" else (0.9, 0.01)
base = load_file(f"{d}/base.safetensors")
fts = [load_file(f"{d}/ft{i}.safetensors") for i in range(1, 5)]
tv, mk = load_file(tv_path), load_file(mk_path)


def masks(tau, ties_kept):
    """Per model: the keep mask, and where |tau| equals one of its thresholds."""
    n = tau.numel()
    w = tau.abs().reshape(-1).float()
    if method == "ties":
        k = max(1, int(density * n))
        order = torch.argsort(w, descending=True)
        low, high = w[order[k - 1]], None
        mask = torch.zeros(n)
        mask[order[:k]] = 1
    else:
        target, top = int(density * n), int(gamma * n)
        bot = max(0, n - target - top)
        order = torch.sort(w, descending=False).indices
        mask = torch.zeros(n)
        mask[order[bot:bot + target]] = 1
        low = w[order[bot]]
        high = w[order[bot + target]] if bot + target < n else None
    at = (w == low) | ((w == high) if high is not None else torch.zeros(n, dtype=torch.bool))
    if ties_kept:
        mask = ((w >= low) & ((w < high) if high is not None else True)).float()
    return mask.reshape(tau.shape), at.reshape(tau.shape)


def merge(name, ties_kept):
    b = base[name]
    deltas, tied = [], torch.zeros(b.shape, dtype=torch.bool)
    for f in fts:
        tau = f[name] - b
        m, at = masks(tau, ties_kept)
        deltas.append(tau * m)
        tied |= at
    deltas = torch.stack(deltas)
    weights = W.reshape(-1, *([1] * b.dim()))
    deltas = deltas * weights
    if method == "ties":  # mergekit: sign election "sum", disjoint mean (normalize default true)
        sign = deltas.sign()
        majority = (deltas.sum(dim=0) >= 0).to(b.dtype) * 2 - 1
        mask = sign == majority
        mixed = (deltas * mask).sum(dim=0)
        divisor = (weights * mask).sum(dim=0)
        divisor[divisor == 0] = 1
        mixed = mixed / divisor
    else:  # breadcrumbs: no consensus, normalize false in mergekit's breadcrumbs
        mixed = deltas.sum(dim=0)
    return b + mixed, tied


worst = (0.0, 0.0, "")
all_at_ties = True
recompute_tv = recompute_mk = 0.0
for name in tv:
    a, m = tv[name].double(), mk[name].double()
    diff = (a - m).abs()
    if diff.max() > worst[0]:
        worst = (float(diff.max()), float(diff.max() / a.abs().max().clamp_min(1e-30)), name)
    kept, tied = merge(name, ties_kept=True)
    exact_k, _ = merge(name, ties_kept=False)
    if bool((diff > 0).any()):
        all_at_ties &= bool(tied[diff > 0].all())
    recompute_tv = max(recompute_tv, float((kept.double() - a).abs().max()))
    recompute_mk = max(recompute_mk, float((exact_k.double() - m).abs().max()))
print(f"{method}: max |tvtool - mergekit| = {worst[0]:.3e} ({worst[1]:.2e} of the tensor max, {worst[2]}); "
      f"every differing element has a |tau| tied at a threshold: {all_at_ties}; "
      f"tie-inclusive recomputation vs tvtool: {recompute_tv:.1e}; argsort recomputation vs mergekit: {recompute_mk:.1e}")
