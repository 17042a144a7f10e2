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
#
# usage: scripts/bench/methods/run.sh sd [scale] [repeats] [before_repeats] [mergekit_repeats]
#   The SD-shaped F16 benchmark (scripts/bench/merge/make_unet.py: base + 4 x 1.72 GB at scale 1.0,
#   in /tmp/tvtool-bench/f16[-scale]; output on $OUTDIR, default /dev/shm): TIES (density 0.2),
#   DARE-TIES, breadcrumbs and DARE linear at --threads 2, each beside task arithmetic (ratio),
#   the portable chunked path (TVTOOL_FUSED=0, "before") and mergekit (sparse.py). Defaults:
#   scale 1.0, 3 repeats, 1 "before" and 1 mergekit run per method (each takes ~1 min at full size).
#
# usage: scripts/bench/methods/run.sh svd [scale] [repeats] [methods...]
#   TSV / Iso-C / Iso-CTS on the same SD-shaped F16 inputs at --threads 2 beside task arithmetic
#   (spectral.py): wall, user and system seconds, ratio to task arithmetic. TVTOOL_BEFORE=binary
#   alternates a second build with $TVTOOL and prints how far their outputs differ. Defaults:
#   scale 0.25, 3 repeats, methods tsv iso_c iso_cts.
set -euo pipefail
cd "$(dirname "$0")/../../.."
# The SD-shaped F16 inputs at $scale (made once), the output folder and the tvtool binary
# ($TVTOOL, or this checkout's release build): sets dir, outdir and tv for the sd and svd modes.
sd_inputs() {
    dir=/tmp/tvtool-bench/f16$([ "$scale" = 1.0 ] || echo "-$scale")
    [ -f "$dir/ft4.safetensors" ] || python3 scripts/bench/merge/make_unet.py "$dir" --dtype f16 --scale "$scale"
    outdir=${OUTDIR:-$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp/tvtool-bench )}
    tv=${TVTOOL:-}
    if [ -z "$tv" ]; then
        swift build -c release --product tvtool >/dev/null
        tv=$(swift build -c release --show-bin-path)/tvtool
    fi
}
if [ "${1:-}" = svd ]; then
    scale=${2:-0.25}; repeats=${3:-3}; shift $(( $# < 3 ? $# : 3 ))
    sd_inputs
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; avx2: $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no), avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no); TVTOOL_NO_AVX512=${TVTOOL_NO_AVX512:-unset}, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
    echo "shared machine, load before: $(uptime | sed 's/.*load average: //')"
    echo "inputs: base + 4 x $(numfmt --to=iec "$(stat -c %s "$dir/base.safetensors")") F16 (scale $scale), output on $outdir"
    python3 scripts/bench/methods/spectral.py "$dir" "$outdir" "$tv" "$repeats" "$@"
    echo "load after: $(uptime | sed 's/.*load average: //')"
    exit 0
fi
if [ "${1:-}" = sd ]; then
    scale=${2:-1.0}; repeats=${3:-3}; before=${4:-1}; mk=${5:-1}
    venv=${MERGEKIT_VENV:-/tmp/mkenv}
    if [ "$mk" -gt 0 ] && [ ! -x "$venv/bin/mergekit-pytorch" ]; then
        python3 -m venv --system-site-packages "$venv"
        "$venv/bin/pip" install -q mergekit
    fi
    py=$([ "$mk" -gt 0 ] && echo "$venv/bin/python" || echo python3)
    sd_inputs
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; avx2: $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no), f16c: $(grep -qw f16c /proc/cpuinfo && echo yes || echo no), avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no) (the fused kernels are AVX2 + F16C; DARE's draw also has an AVX-512DQ variant, off with TVTOOL_NO_AVX512=1)"
    echo "shared machine, load before: $(uptime | sed 's/.*load average: //')"
    echo "inputs: base + 4 x $(numfmt --to=iec "$(stat -c %s "$dir/base.safetensors")") F16 (scale $scale), output on $outdir"
    TQDM_DISABLE=1 nice -n "${NICE:-0}" "$py" scripts/bench/methods/sparse.py "$dir" "$outdir" "$tv" "$repeats" "$before" "$mk"
    echo "load after: $(uptime | sed 's/.*load average: //')"
    exit 0
fi
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
