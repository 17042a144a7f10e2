#!/usr/bin/env python3
"""The SD-shaped F16 timing loop of `run.sh svd`: TSV-Merge, Iso-C and Iso-CTS against task
arithmetic on the same 5 inputs, --threads 2, output on tmpfs. Per repeat, after re-warming the page
cache, every variant runs once in a fixed alternating order: task arithmetic, then per method tvtool
and, when TVTOOL_BEFORE names a second binary, that binary ("before"). Medians of wall, user and
system CPU seconds (/usr/bin/time); ratios to task arithmetic's median wall. With a "before" binary
the first repeat also prints the largest |after - before| of each method relative to the tensor's
largest |before| (the outputs of the two builds must agree).

usage: spectral.py DIR OUTDIR TVTOOL REPEATS [METHODS...]   (methods default: tsv iso_c iso_cts)
"""
import os
import pathlib
import statistics
import subprocess
import sys

import numpy as np
from safetensors.numpy import load_file

d, outdir, tv = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
repeats = int(sys.argv[4])
methods = sys.argv[5:] or ["tsv", "iso_c", "iso_cts"]
before = os.environ.get("TVTOOL_BEFORE")
base = str(d / "base.safetensors")
fts = [str(d / f"ft{i}.safetensors") for i in range(1, 5)]


def run(binary, method, out):
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", binary, "merge", base, *fts, "--method", method,
                        "--threads", "2", "-o", str(out), "--quiet"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tvtool failed ({binary} {method}): {r.stderr.strip()}")
    wall, rss, user, system = r.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss) / 1024, float(user), float(system)


def max_rel_diff(a_path, b_path):
    a, b = load_file(str(a_path)), load_file(str(b_path))
    worst = 0.0
    for k in b:
        x, y = a[k].astype(np.float64), b[k].astype(np.float64)
        worst = max(worst, float(np.abs(x - y).max() / max(np.abs(y).max(), 1e-30)) if y.size else 0.0)
    return worst


def warm():
    for f in [base, *fts]:
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass


times = {}  # label -> [(wall, rss_mb, user, system)]
out_a, out_b = outdir / "tvtool-svd-bench-a.safetensors", outdir / "tvtool-svd-bench-b.safetensors"
try:
    for r in range(repeats):
        warm()
        times.setdefault("task_arithmetic", []).append(run(tv, "task_arithmetic", out_a))
        for m in methods:
            times.setdefault(m, []).append(run(tv, m, out_a))
            if before:
                times.setdefault(m + " before", []).append(run(before, m, out_b))
                if r == 0:
                    print(f"{m}: max |after - before| / max |before| per tensor = {max_rel_diff(out_a, out_b):.2e}", flush=True)
        print(f"repeat {r + 1}: " + ", ".join(f"{k} {v[-1][0]:.1f}" for k, v in times.items() if len(v) == r + 1), flush=True)
finally:
    out_a.unlink(missing_ok=True)
    out_b.unlink(missing_ok=True)

ta = statistics.median(t[0] for t in times["task_arithmetic"])
print(f"\n{'variant':18} {'wall_s':>7} {'user_s':>7} {'sys_s':>7} {'rss_MB':>7} {'wall/TA':>8} {'runs':>4}  all wall_s")
for k, v in times.items():
    med = [statistics.median(t[i] for t in v) for i in range(4)]
    print(f"{k:18} {med[0]:7.2f} {med[2]:7.2f} {med[3]:7.2f} {med[1]:7.0f} {med[0] / ta:8.1f} {len(v):4}  "
          f"{' '.join(f'{t[0]:.2f}' for t in v)}")
