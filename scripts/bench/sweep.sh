#!/usr/bin/env bash
# Per-point overhead of `tvtool search --eval-cmd` on an F32 model of SIZE_MB megabytes (three
# safetensors written with numpy): each point streams the candidate from the mapped inputs into a
# temporary safetensors file, spawns /bin/sh, parses the score and removes the file. Baseline: the
# same bytes written by numpy (base + w1*(a-base) + w2*(b-base), then safetensors save_file), i.e.
# what a Python sweep script would do per point. Alternates tvtool / numpy ROUNDS times and prints
# medians; the machine is shared, so note `uptime` next to the figures.
# Usage: scripts/bench/sweep.sh [SIZE_MB=256] [POINTS=8] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-256}
points=${2:-8}
rounds=${3:-3}
swift build -c release --product tvtool >/dev/null
bin=$PWD/.build/release/tvtool
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 - "$out" "$size" <<'PY'
import sys, numpy as np
from safetensors.numpy import save_file
out, mb = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
n = mb * 1024 * 1024 // 4 // 8
for name, shift in (("base", 0.0), ("a", 0.1), ("b", -0.1)):
    save_file({f"layer{i}.weight": (rng.standard_normal((n // 1024, 1024)).astype(np.float32) + shift) for i in range(8)},
              f"{out}/{name}.safetensors")
PY
cat > "$out/numpy_points.py" <<'PY'
import sys, time, os, numpy as np
from safetensors.numpy import load_file, save_file
out, points = sys.argv[1], int(sys.argv[2])
t0 = time.time()
base, a, b = (load_file(f"{out}/{n}.safetensors") for n in ("base", "a", "b"))
for k in range(points):
    w1, w2 = k / points, 0.5
    cand = {n: base[n] + w1 * (a[n] - base[n]) + w2 * (b[n] - base[n]) for n in base}
    save_file(cand, f"{out}/cand.safetensors"); os.remove(f"{out}/cand.safetensors")
print(f"{(time.time() - t0) / points:.3f}")
PY
uptime
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
: > "$out/swift"; : > "$out/numpy"
for r in $(seq "$rounds"); do
  rm -rf "$out/s"
  start=$(date +%s.%N)
  "$bin" search "$out/base.safetensors" "$out/a.safetensors" "$out/b.safetensors" --grid "0:1:$points" --grid 0.5 \
      --eval-cmd 'echo 0' --tmp-dir "$out" -o "$out/s" --quiet >/dev/null
  end=$(date +%s.%N)
  # The run also writes the best checkpoint once (one more model-sized write): count it as a point.
  s=$(python3 -c "print(f'{($end - $start) / ($points + 1):.3f}')")
  t=$(python3 "$out/numpy_points.py" "$out" "$points")
  echo "round $r: tvtool $s s/point, numpy+safetensors $t s/point"
  echo "$s" >> "$out/swift"; echo "$t" >> "$out/numpy"
done
ms=$(median < "$out/swift"); mt=$(median < "$out/numpy")
echo "median (${size} MB F32 model): tvtool $ms s/point ($(python3 -c "print(f'{$size/1024/$ms:.2f}')") GB/s of candidate), numpy $mt s/point, ratio numpy/tvtool $(python3 -c "print(f'{$mt/$ms:.2f}')")x"
uptime
