#!/usr/bin/env python3
"""The SD-shaped F16 timing loop of `run.sh sd`: TIES (density 0.2), DARE-TIES, breadcrumbs and DARE
linear against task arithmetic on the same 5 inputs, --threads 2, output on tmpfs. Per repeat,
after re-warming the page cache, every variant runs once in a fixed alternating order:
task arithmetic, then per method tvtool (fused kernels), tvtool with TVTOOL_FUSED=0 (the portable
chunked path this replaces: "before"), and mergekit. Medians; ratios to task arithmetic's median.

mergekit (`mergekit-pytorch`'s entry point in THIS process, imports paid once, before timing)
computes in float32 and writes float16, as tvtool does; torch uses its default threads (the 2 cores).

usage (inside the mergekit virtualenv): sparse.py DIR OUTDIR TVTOOL REPEATS BEFORE_REPEATS MERGEKIT_REPEATS
"""
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

d, outdir, tv = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
repeats, before_repeats, mk_repeats = (int(x) for x in sys.argv[4:7])
base = str(d / "base.safetensors")
fts = [str(d / f"ft{i}.safetensors") for i in range(1, 5)]
W = [0.1, 0.1, 0.2, 0.5]
weights = ",".join(map(str, W))

# name: (tvtool arguments, mergekit method, mergekit per-model parameters)
METHODS = {
    "ties": (["--method", "ties", "--density", "0.2"], "ties", {"density": 0.2}),
    "dare_ties": (["--method", "dare_ties", "--density", "0.5"], "dare_ties", {"density": 0.5}),
    "breadcrumbs": (["--method", "breadcrumbs", "--density", "0.9", "--param", "gamma=0.01"], "breadcrumbs", {"density": 0.9, "gamma": 0.01}),
    "dare_linear": (["--method", "dare_linear", "--density", "0.5"], None, None),
}

mk_main = None
if mk_repeats > 0:
    t0 = time.perf_counter()
    from mergekit.scripts.merge_raw_pytorch import main as mk_main  # noqa: E402
    print(f"mergekit import (paid once, not timed): {time.perf_counter() - t0:.1f} s", flush=True)


def run_tvtool(args, fused=True):
    out = outdir / "tvtool-sparse-bench.safetensors"
    env = dict(os.environ)
    if not fused:
        env["TVTOOL_FUSED"] = "0"
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", tv, "merge", base, *fts, "--weights", weights, *args,
                        "--threads", "2", "-o", str(out), "--quiet"], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"tvtool failed: {r.stderr.strip()}")
    out.unlink()
    wall, rss, user, system = r.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss) / 1024, float(user) + float(system)


def run_mergekit(method, params):
    cfg = outdir / f"mk-{method}.yml"
    lines = [f"merge_method: {method}", f"base_model: {base}", "models:"]
    for f, w in zip(fts, W):
        p = ", ".join(f"{k}: {v}" for k, v in dict(params, weight=w).items())
        lines += [f"  - model: {f}", f"    parameters: {{{p}}}"]
    lines += ["dtype: float32", "out_dtype: float16"]
    cfg.write_text("\n".join(lines) + "\n")
    out = outdir / "mergekit-sparse-bench"
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    mk_main.main([str(cfg), str(out)], standalone_mode=False)
    s = time.perf_counter() - t
    shutil.rmtree(out, ignore_errors=True)
    return s


def warm():
    for f in [base, *fts]:
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass


times = {}  # label -> [(wall, rss_mb, cpu = user + system)]
for r in range(repeats):
    warm()
    times.setdefault("task_arithmetic", []).append(run_tvtool([]))
    for m, (args, mk, params) in METHODS.items():
        times.setdefault(m, []).append(run_tvtool(args))
        if r < before_repeats:
            times.setdefault(m + " before", []).append(run_tvtool(args, fused=False))
        if mk and r < mk_repeats:
            times.setdefault(m + " mergekit", []).append((run_mergekit(mk, params), 0, 0))
    print(f"repeat {r + 1}: " + ", ".join(f"{k} {v[-1][0]:.1f}" for k, v in times.items() if len(v) == r + 1), flush=True)

ta = statistics.median(t[0] for t in times["task_arithmetic"])
ta_cpu = statistics.median(t[2] for t in times["task_arithmetic"])
print(f"\n{'variant':22} {'wall_s':>7} {'cpu_s':>7} {'rss_MB':>7} {'wall/TA':>8} {'cpu/TA':>7} {'runs':>4}  all wall_s")
for k, v in times.items():
    wall = statistics.median(t[0] for t in v)
    cpu = statistics.median(t[2] for t in v)
    rss = statistics.median(t[1] for t in v)
    print(f"{k:22} {wall:7.2f} {cpu:7.2f} {rss:7.0f} {wall / ta:8.2f} {cpu / ta_cpu if cpu else 0:7.2f} {len(v):4}  {' '.join(f'{t[0]:.2f}' for t in v)}")
for m, (_, mk, _) in METHODS.items():
    if mk and m + " mergekit" in times:
        a = statistics.median(t[0] for t in times[m])
        b = statistics.median(t[0] for t in times[m + " mergekit"])
        print(f"mergekit / tvtool {m}: {b / a:.1f}")
