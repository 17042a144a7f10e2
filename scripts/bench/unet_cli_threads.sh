#!/usr/bin/env bash
# --threads 1 vs 2 on a UNet through the CLI (release build): `train` (data-parallel batch halves
# via replicaSharingParameters) and `sample` (DataParallelDenoiser), on the committed CIFAR-10
# fixture batches (32×32 RGB), UNet 32/64 channels, 2 layers per block, attention at 16×16,
# 8 groups. A/B alternately ROUNDS times; medians and the 2-thread speed-up. The machine may be
# shared: `uptime` is printed around the runs, and train's CPU ms per step.
# Usage: [TVTOOL=.build/release/tvtool] scripts/bench/unet_cli_threads.sh [TRAIN_STEPS=10] [SAMPLES=32] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-10}; samples=${2:-32}; rounds=${3:-3}
# TVTOOL=path uses an existing release binary instead of building one.
bin=${TVTOOL:-.build/release/tvtool}
[ -n "${TVTOOL:-}" ] || swift build -c release --product tvtool >/dev/null
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
data="cifar10:fixtures/trainer/cifar10/bin"
unet=(--model unet --block-out-channels 32,64 --layers-per-block 2 --attention-levels 1 --norm-groups 8)
"$bin" train --data "$data" "${unet[@]}" --steps 1 --batch 16 --quiet -o "$out/model" >/dev/null
uptime
lscpu | grep -E 'Model name|^CPU\(s\)'; grep -q avx512f /proc/cpuinfo && echo "AVX-512: yes" || echo "AVX-512: no"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for r in $(seq "$rounds"); do
  for t in 1 2; do
    j=$("$bin" train --data "$data" "${unet[@]}" --steps "$steps" --batch 16 --threads "$t" --quiet --json -o "$out/t$t")
    echo "$j" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["steps_per_second"], d["cpu_milliseconds_per_step"])' \
      | while read -r sps cpu; do echo "$sps" >> "$out/train$t"; echo "$cpu" >> "$out/cpu$t"; done
    s=$(date +%s.%N)
    "$bin" sample "$out/model" -n "$samples" --sampling-steps 5 --threads "$t" --quiet -o "$out/g$t.png" >/dev/null
    echo "$samples * 5 / ($(date +%s.%N) - $s)" | bc -l >> "$out/sample$t"
  done
done
for t in 1 2; do
  printf 'threads %d: train %.2f steps/s (CPU %.0f ms/step), sample %.1f model-images/s\n' "$t" \
    "$(median < "$out/train$t")" "$(median < "$out/cpu$t")" "$(median < "$out/sample$t")"
done
printf 'speed-up with 2 threads: train %.2fx, sample %.2fx\n' \
  "$(echo "$(median < "$out/train2") / $(median < "$out/train1")" | bc -l)" \
  "$(echo "$(median < "$out/sample2") / $(median < "$out/sample1")" | bc -l)"
uptime
