#!/usr/bin/env bash
# Training throughput of `tvtool train` (width 256, 4 blocks, batch 128, digits) against the same
# model and step in PyTorch CPU (scripts/bench/train_torch.py), with 1 and 2 threads, run
# alternately (A/B) ROUNDS times; prints each run and the medians. The machine is shared: note
# `uptime` load next to the figures.
# Usage: scripts/bench/train.sh [STEPS=400] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-400}
rounds=${2:-3}
swift build -c release --product tvtool >/dev/null
bin=.build/release/tvtool
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
uptime
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for threads in 1 2; do
  : > "$out/swift"; : > "$out/torch"
  for r in $(seq "$rounds"); do
    s=$(OPENBLAS_NUM_THREADS=$threads $bin train --data digits --steps "$steps" --threads "$threads" --checkpoint-every 0 \
        --quiet --json -o "$out/m.safetensors" | python3 -c 'import json,sys; print("%.1f" % json.load(sys.stdin)["stepsPerSecond"])')
    t=$(OMP_NUM_THREADS=$threads python3 scripts/bench/train_torch.py "$threads" "$steps")
    echo "threads $threads round $r: tvtool $s steps/s, PyTorch $t steps/s"
    echo "$s" >> "$out/swift"; echo "$t" >> "$out/torch"
  done
  ms=$(median < "$out/swift"); mt=$(median < "$out/torch")
  echo "threads $threads median: tvtool $ms steps/s, PyTorch $mt steps/s, ratio $(python3 -c "print(f'{$ms/$mt:.2f}')")x"
done
uptime
