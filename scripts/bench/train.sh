#!/usr/bin/env bash
# Training throughput of `tvtool train` (width 256, 4 blocks, time embedding 128, batch 128, digits)
# against the same model and step in PyTorch CPU (scripts/bench/train_torch.py: same layers, AdamW,
# grad clipping, EMA), with 1 and 2 threads, run alternately (A/B) ROUNDS times. Prints wall-clock
# steps/s and process CPU ms per step for each run, then medians and ratios. The machine is
# shared: CPU ms/step is the less load-sensitive figure; note the `uptime` load printed around it.
# Kernel sets: OPENBLAS_CORETYPE (e.g. Zen: the kernels OpenBLAS runs on an AVX2-only AMD EPYC) and
# TVTOOL_NO_AVX512=1 (CKernels' AVX2 variants) pass through to tvtool, so an AVX-512 machine can run
# what an AVX2-only one runs; the script prints both. TVTOOL_BIN=path skips the release build.
# Usage: scripts/bench/train.sh [STEPS=300] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-300}
rounds=${2:-3}
if [ -n "${TVTOOL_BIN:-}" ]; then bin=$TVTOOL_BIN; else swift build -c release --product tvtool >/dev/null; bin=.build/release/tvtool; fi
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset (tvtool picks)} TVTOOL_NO_AVX512=${TVTOOL_NO_AVX512:-unset}"
lscpu | grep -E 'Model name' ; grep -q avx512f /proc/cpuinfo && echo "CPU AVX-512: yes" || echo "CPU AVX-512: no"
# With TVTOOL_NO_AVX512=1 PyTorch is held to AVX2 too (ATen dispatch, MKL, oneDNN), so both sides
# run what an AVX2-only CPU runs.
torch_isa=""
if [ "${TVTOOL_NO_AVX512:-0}" != "0" ]; then
  torch_isa="ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2"
  echo "PyTorch held to AVX2: $torch_isa"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
uptime
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for threads in 1 2; do
  : > "$out/sw"; : > "$out/sc"; : > "$out/tw"; : > "$out/tc"
  for r in $(seq "$rounds"); do
    # Command substitution (not `read < <(...)`): waits until each process has exited, so one
    # run's teardown (e.g. PyTorch's spinning OpenMP threads) never overlaps the next run.
    res=$(OPENBLAS_NUM_THREADS=$threads $bin train --data digits --steps "$steps" --threads "$threads" \
        --checkpoint-every 0 --quiet --json -o "$out/m.safetensors" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f %.2f" % (d["steps_per_second"], d["cpu_milliseconds_per_step"]))')
    read -r sw sc <<< "$res"
    res=$(env OMP_NUM_THREADS=$threads $torch_isa python3 scripts/bench/train_torch.py "$threads" "$steps")
    read -r tw tc <<< "$res"
    echo "threads $threads round $r: tvtool $sw steps/s ($sc CPU ms/step), PyTorch $tw steps/s ($tc CPU ms/step)"
    echo "$sw" >> "$out/sw"; echo "$sc" >> "$out/sc"; echo "$tw" >> "$out/tw"; echo "$tc" >> "$out/tc"
  done
  msw=$(median < "$out/sw"); msc=$(median < "$out/sc"); mtw=$(median < "$out/tw"); mtc=$(median < "$out/tc")
  echo "threads $threads median: tvtool $msw steps/s, $msc CPU ms/step; PyTorch $mtw steps/s, $mtc CPU ms/step;" \
       "ratio wall $(python3 -c "print(f'{$msw/$mtw:.2f}')")x, CPU $(python3 -c "print(f'{$mtc/$msc:.2f}')")x"
done
uptime
