#!/usr/bin/env bash
# The MLP trainer's products: CKernels' tiled GEMM (tv_mlp_gemm, the default where the CPU has
# AVX2+FMA) against OpenBLAS (TVTOOL_GEMM=openblas), same binary, alternating, for each kernel
# set an AVX2-only or AVX-512 CPU would run: CKernels at AVX-512 or AVX2 (TVTOOL_NO_AVX512=1) ×
# OpenBLAS's Haswell or Zen kernels (OPENBLAS_CORETYPE). Runs `tvtool train` (width 256, 4 blocks,
# batch 128, digits, 1 thread) STEPS steps, ROUNDS times per side; prints CPU ms/step and steps/s
# per run, then medians and the speed-up (OpenBLAS CPU ms / tiled CPU ms).
# Usage: scripts/bench/mlp_gemm.sh [STEPS=300] [ROUNDS=3]   (TVTOOL_BIN=path skips the build)
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-300}
rounds=${2:-3}
if [ -n "${TVTOOL_BIN:-}" ]; then bin=$TVTOOL_BIN; else swift build -c release --product tvtool >/dev/null; bin=.build/release/tvtool; fi
lscpu | grep -E 'Model name'; grep -q avx512f /proc/cpuinfo && echo "CPU AVX-512: yes" || echo "CPU AVX-512: no"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
uptime
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
run() {  # gemm noavx512 core -> "steps/s cpu-ms"
  TVTOOL_GEMM=$1 TVTOOL_NO_AVX512=$2 OPENBLAS_CORETYPE=$3 OPENBLAS_NUM_THREADS=1 "$bin" train --data digits \
      --steps "$steps" --threads 1 --checkpoint-every 0 --quiet --json -o "$out/m.safetensors" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f %.2f" % (d["steps_per_second"], d["cpu_milliseconds_per_step"]))'
}
for noavx in 0 1; do
  for core in Haswell Zen; do
    : > "$out/o"; : > "$out/t"
    for r in $(seq "$rounds"); do
      read -r ow oc <<< "$(run openblas $noavx $core)"
      read -r tw tc <<< "$(run tiled $noavx $core)"
      echo "TVTOOL_NO_AVX512=$noavx OPENBLAS_CORETYPE=$core round $r: openblas $oc CPU ms ($ow steps/s), tiled $tc CPU ms ($tw steps/s)"
      echo "$oc" >> "$out/o"; echo "$tc" >> "$out/t"
    done
    mo=$(median < "$out/o"); mt=$(median < "$out/t")
    echo "TVTOOL_NO_AVX512=$noavx OPENBLAS_CORETYPE=$core median: openblas $mo, tiled $mt CPU ms/step; tiled speed-up $(python3 -c "print(f'{$mo/$mt:.2f}')")x"
  done
done
uptime
