#!/usr/bin/env bash
# Whole-tensor merge methods, tvtool vs mergekit on the same synthetic float32 checkpoints
# (make_models.py: UNet-like 2-D/conv/1-D tensors, base + 4 models), same run, alternating A/B,
# medians (bench.py). mergekit 0.1.5's `mergekit-pytorch` entry point (raw safetensors files, no HF
# architecture needed) runs inside one Python process from the virtualenv $MERGEKIT_VENV
# (default /tmp/mkenv; created with `pip install mergekit` if missing), so its several seconds of
# imports are excluded; tvtool's times include its process start. Deterministic methods also print
# the largest output difference relative to the tensor's largest |value|. Also times tvtool's
# TSV / Iso-C / Iso-CTS (not in mergekit) beside task arithmetic.
#
# usage: scripts/bench/methods/run.sh [scale] [repeats] [methods...]
#   scale 1.0 = 55 MB per model; methods default: slerp nuslerp multislerp karcher sce della della_linear
set -euo pipefail
cd "$(dirname "$0")/../../.."
scale=${1:-1.0}; repeats=${2:-3}; shift $(( $# < 2 ? $# : 2 ))
methods=("$@"); [ ${#methods[@]} -gt 0 ] || methods=(slerp nuslerp multislerp karcher sce della della_linear)
venv=${MERGEKIT_VENV:-/tmp/mkenv}
if [ ! -x "$venv/bin/mergekit-pytorch" ]; then
    python3 -m venv --system-site-packages "$venv"
    "$venv/bin/pip" install -q mergekit
fi
dir=/tmp/tvtool-bench/methods-$scale
[ -f "$dir/ft4.safetensors" ] || python3 scripts/bench/methods/make_models.py "$dir" --scale "$scale"
tv=${TVTOOL:-}
if [ -z "$tv" ]; then
    swift build -c release --product tvtool >/dev/null
    tv=$(swift build -c release --show-bin-path)/tvtool
fi
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, avx512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no); shared machine, load: $(uptime | sed 's/.*load average: //')"
echo "inputs: base + 4 x $(numfmt --to=iec "$(stat -c %s "$dir/base.safetensors")") float32 (scale $scale)"
cat "$dir"/*.safetensors > /dev/null
TQDM_DISABLE=1 "$venv/bin/python" scripts/bench/methods/bench.py "$dir" "$tv" "$repeats" "${methods[@]}"
