#!/usr/bin/env python3
"""The timing loop of run.sh: for each method, tvtool (a subprocess, timed with its process start)
and mergekit (`mergekit-pytorch`'s entry point called in THIS process, so its Python imports are
paid once, before timing) alternate on the same inputs; medians, ratio mergekit/tvtool, tvtool's
peak RSS, the largest difference between the outputs (absolute and relative to the tensor's
largest |value|), and for the random-mask methods the ratio of the merged task vectors' norms.

usage (from run.sh, inside the mergekit virtualenv): bench.py DIR TVTOOL REPEATS METHOD...
"""
import math
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

d = pathlib.Path(sys.argv[1])
tv = sys.argv[2]
repeats = int(sys.argv[3])
methods = sys.argv[4:]

t0 = time.perf_counter()
from mergekit.scripts.merge_raw_pytorch import main as mergekit_main  # noqa: E402

print(f"mergekit import (paid once, not timed below): {time.perf_counter() - t0:.1f} s")

ft = [str(d / f"ft{i}.safetensors") for i in range(1, 5)]
base = str(d / "base.safetensors")


def config(method):
    """(mergekit YAML, tvtool arguments)"""
    def models(n, weights=None):
        out = []
        for i in range(n):
            out.append(f"  - model: {ft[i]}")
            if weights:
                out.append(f"    parameters: {{weight: {weights[i]}}}")
        return "\n".join(out)
    head = f"merge_method: {method}\nbase_model: {base}\nmodels:\n"
    if method == "slerp":
        return head + models(1) + "\nparameters: {t: 0.3}\n", [ft[0], "--method", "slerp", "--t", "0.3"]
    if method == "nuslerp":
        return head + models(2, [0.3, 0.7]) + "\n", ft[:2] + ["--method", "nuslerp", "--weights", "0.3,0.7"]
    if method == "multislerp":
        return head + models(4, [1, 2, 3, 4]) + "\n", ft + ["--method", "multislerp", "--weights", "1,2,3,4"]
    if method == "karcher":
        return f"merge_method: karcher\nmodels:\n{models(4)}\n", ft + ["--method", "karcher"]
    if method == "sce":
        return head + models(4) + "\nparameters: {select_topk: 0.5}\n", ft + ["--method", "sce", "--param", "select_topk=0.5"]
    if method in ("della", "della_linear"):
        # rescale_norm=l1: mergekit's rescale (tvtool's default is the paper's 1/p_i per entry).
        return (head + models(4, [0.25] * 4) + "\nparameters: {density: 0.5, epsilon: 0.1}\n",
                ft + ["--method", method, "--weights", "0.25", "--density", "0.5", "--param", "epsilon=0.1",
                      "--param", "rescale_norm=l1"])
    if method == "ties":
        return (head + models(4, [0.1, 0.1, 0.2, 0.5]) + "\nparameters: {density: 0.2}\n",
                ft + ["--method", "ties", "--weights", "0.1,0.1,0.2,0.5", "--density", "0.2"])
    if method == "dare_ties":
        # normalize: true is tvtool's default (disjoint mean, as TIES); mergekit's dare_ties defaults to false.
        return (head + models(4, [0.1, 0.1, 0.2, 0.5]) + "\nparameters: {density: 0.5, normalize: true}\n",
                ft + ["--method", "dare_ties", "--weights", "0.1,0.1,0.2,0.5", "--density", "0.5"])
    if method == "breadcrumbs":
        return (head + models(4, [0.1, 0.1, 0.2, 0.5]) + "\nparameters: {density: 0.9, gamma: 0.01}\n",
                ft + ["--method", "breadcrumbs", "--weights", "0.1,0.1,0.2,0.5", "--density", "0.9", "--param", "gamma=0.01"])
    raise SystemExit(f"unknown method {method}")


def run_tvtool(args, out):
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M", tv, "merge", base, *args, "-o", out, "--quiet"],
                       capture_output=True, text=True, check=True)
    secs, rss = r.stderr.strip().splitlines()[-1].split()
    return float(secs), int(rss) / 1024


def run_mergekit(cfg, out):
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    mergekit_main.main([cfg, out], standalone_mode=False)
    return time.perf_counter() - t


def max_diffs(a_path, b_path):
    """Largest |a - b| over all tensors, and the largest relative to its tensor's largest |a|."""
    a, b = load_file(a_path), load_file(b_path)
    d = {k: np.abs(a[k].astype(np.float64) - b[k]).max() for k in a}
    return max(d.values()), max(float(d[k] / max(np.abs(a[k]).max(), 1e-30)) for k in a)


def delta_norm_ratio(a_path, b_path):
    """||a - base|| / ||b - base|| over the whole model: random-mask methods (DARE, DELLA) draw
    different masks in each tool, so only such statistics are comparable."""
    a, b, t = load_file(a_path), load_file(b_path), load_file(base)
    na = sum(float(np.sum((a[k].astype(np.float64) - t[k]) ** 2)) for k in a)
    nb = sum(float(np.sum((b[k].astype(np.float64) - t[k]) ** 2)) for k in a)
    return (na / nb) ** 0.5 if nb > 0 else float("nan")


print(f"{'method':13} {'tvtool_s':>9} {'mergekit_s':>10} {'ratio':>6} {'tvtool_rss_MB':>13} {'max_abs_diff':>12} {'max_rel_diff':>12}  note")
for m in methods:
    yml, args = config(m)
    cfg = d / f"{m}.yml"
    cfg.write_text(yml + "dtype: float32\n")
    tv_out, mk_out = str(d / "out-tv.safetensors"), str(d / "out-mk")
    ts, ks, rs = [], [], []
    for _ in range(repeats):
        s, r = run_tvtool(args, tv_out)
        ts.append(s)
        rs.append(r)
        ks.append(run_mergekit(str(cfg), mk_out))
    absd, reld = max_diffs(tv_out, mk_out + "/model.safetensors")
    note = ""
    if m.startswith("della") or m.startswith("dare"):
        note = f"random masks differ; ||delta|| tvtool/mergekit = {delta_norm_ratio(tv_out, mk_out + '/model.safetensors'):.4f}"
    tm, km = statistics.median(ts), statistics.median(ks)
    print(f"{m:13} {tm:9.2f} {km:10.2f} {km / tm:6.1f} {statistics.median(rs):13.0f} {absd:12.2e} {reld:12.2e}  {note}", flush=True)

# Methods mergekit does not have: tvtool alone, beside task arithmetic on the same inputs.
# BENCH_SVD=0 leaves the SVD methods out (task arithmetic only, the reference for the sparse ones).
for m in ["task_arithmetic"] + (["tsv", "iso_c", "iso_cts"] if os.environ.get("BENCH_SVD", "1") != "0" else []):
    ts, rs = [], []
    for _ in range(repeats):
        s, r = run_tvtool(ft + ["--method", m], str(d / "out-tv.safetensors"))
        ts.append(s)
        rs.append(r)
    print(f"{m:13} {statistics.median(ts):9.2f} {'-':>10} {'-':>6} {statistics.median(rs):13.0f} {'-':>12} {'-':>12}", flush=True)

with safe_open(base, "np") as f:
    largest = max((f.get_slice(k).get_shape() for k in f.keys()), key=math.prod)
print(f"largest tensor {largest} = {math.prod(largest) * 4 / 2**20:.1f} MB f32; ratio = mergekit / tvtool wall "
      f"(medians of {repeats} alternating runs; tvtool includes its process start, mergekit excludes its imports); "
      "della*, dare*: random masks differ by design")
