#!/usr/bin/env bash
# LoRA bench: time and peak RSS of `lora extract` (rank 32) and `lora bake` on synthetic SD-sized
# weights (scripts/bench/lora/make_models.py), 3 alternating runs each, medians printed.
# Usage: [TVTOOL=path/to/tvtool] scripts/bench/lora/run.sh [N=4]   (numpy + safetensors make the models)
set -euo pipefail
cd "$(dirname "$0")/../../.."
N=${1:-4}
T=${TVTOOL:-.build/release/tvtool}
[ -x "$T" ] || swift build -c release --product tvtool >/dev/null
DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT
python3 scripts/bench/lora/make_models.py "$DIR" "$N"
lscpu | grep -E "Model name|^CPU\(s\)|avx512f" -o | sort -u | tr '\n' ' '; echo
ls -l "$DIR"/base.safetensors | awk '{printf "model: %.1f MB (F16); largest tensor 640x640x3x3 = 7.4 MB as F16, 29.5 MB as F64\n", $5/1e6}'
measure() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
ex=(); bk=()
for i in 1 2 3; do
  ex+=("$(measure $T lora extract "$DIR/base.safetensors" "$DIR/ft.safetensors" --rank 32 -o "$DIR/l.safetensors")")
  bk+=("$(measure $T lora bake "$DIR/base.safetensors" "$DIR/l.safetensors" -o "$DIR/b.safetensors")")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
echo "extract rank 32: seconds $(median $(printf '%s\n' "${ex[@]}" | cut -d' ' -f1))  peak RSS MB $(( $(median $(printf '%s\n' "${ex[@]}" | cut -d' ' -f2)) / 1024 ))"
echo "bake:            seconds $(median $(printf '%s\n' "${bk[@]}" | cut -d' ' -f1))  peak RSS MB $(( $(median $(printf '%s\n' "${bk[@]}" | cut -d' ' -f2)) / 1024 ))"
$T lora extract "$DIR/base.safetensors" "$DIR/ft.safetensors" --rank 32 -o "$DIR/l2.safetensors" | tail -1
