#!/usr/bin/env bash
# Whole-tensor merge methods, tvtool vs mergekit on the same synthetic float32 checkpoints
# (make_models.py: UNet-like 2-D/conv/1-D tensors), same run, alternating A/B, medians.
# mergekit runs as `mergekit-pytorch` (raw safetensors files, no HF architecture needed) from the
# virtualenv $MERGEKIT_VENV (default /tmp/mkenv; created with `pip install mergekit` if missing).
# Wall times include each tool's process start (mergekit imports torch/transformers: several
# seconds of it, printed separately as "mergekit startup"). Deterministic methods also print the
# largest difference between the two outputs, relative to the tensor's largest |value|.
#
# usage: scripts/bench/methods/run.sh [scale] [repeats] [methods...]
#   scale 1.0 = 55 MB per model, 4 finetuned models; methods default: all below.
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
swift build -c release --product tvtool >/dev/null
tv=$(swift build -c release --show-bin-path)/tvtool
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, avx512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no); shared machine, load: $(uptime | sed 's/.*load average: //')"
echo "inputs: base + 4 x $(numfmt --to=iec "$(stat -c %s "$dir/base.safetensors")") float32 (scale $scale)"

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
t0=$(now); "$venv/bin/python" -c "import mergekit.merge, mergekit.scripts.merge_raw_pytorch" ; startup=$(echo "$(now) - $t0" | bc -l)
printf 'mergekit startup (imports only): %.2f s\n' "$startup"

models() { # mergekit model list with optional per-model weights
    local n=$1; shift; local i=1
    for w in "$@"; do echo "  - model: $dir/ft$i.safetensors"; echo "    parameters: {weight: $w}"; i=$((i+1)); done
    for ((; i <= n; i++)); do echo "  - model: $dir/ft$i.safetensors"; done
}
setup() { # method -> writes $cfg, sets tvargs
    local m=$1; cfg=$dir/$m.yml
    case $m in
        slerp) { echo "merge_method: slerp"; echo "base_model: $dir/base.safetensors"; echo "models:"; models 1
                 echo "parameters: {t: 0.3}"; } > "$cfg"
               tvargs=("$dir/ft1.safetensors" --method slerp --t 0.3) ;;
        nuslerp) { echo "merge_method: nuslerp"; echo "base_model: $dir/base.safetensors"; echo "models:"; models 2 0.3 0.7; } > "$cfg"
               tvargs=("$dir/ft1.safetensors" "$dir/ft2.safetensors" --method nuslerp --weights 0.3,0.7) ;;
        multislerp) { echo "merge_method: multislerp"; echo "base_model: $dir/base.safetensors"; echo "models:"; models 4 1 2 3 4; } > "$cfg"
               tvargs=("$dir"/ft{1,2,3,4}.safetensors --method multislerp --weights 1,2,3,4) ;;
        karcher) { echo "merge_method: karcher"; echo "models:"; models 4; } > "$cfg"
               tvargs=("$dir"/ft{1,2,3,4}.safetensors --method karcher) ;;
        sce) { echo "merge_method: sce"; echo "base_model: $dir/base.safetensors"; echo "models:"; models 4
               echo "parameters: {select_topk: 0.5}"; } > "$cfg"
               tvargs=("$dir"/ft{1,2,3,4}.safetensors --method sce --param select_topk=0.5) ;;
        della|della_linear) { echo "merge_method: $m"; echo "base_model: $dir/base.safetensors"; echo "models:"; models 4 0.25 0.25 0.25 0.25
               echo "parameters: {density: 0.5, epsilon: 0.1}"; } > "$cfg"
               tvargs=("$dir"/ft{1,2,3,4}.safetensors --method "$m" --weights 0.25 --density 0.5 --param epsilon=0.1) ;;
        *) echo "unknown method $m" >&2; exit 1 ;;
    esac
    echo "dtype: float32" >> "$cfg"
}
compare() {
    python3 - "$1" "$2" <<'PY'
import sys, numpy as np
from safetensors.numpy import load_file
a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
print("%.2e" % max(float(np.abs(a[k].astype(np.float64) - b[k]).max() / max(np.abs(a[k]).max(), 1e-30)) for k in a))
PY
}
printf '%-13s %10s %10s %8s %10s\n' method tvtool_s mergekit_s ratio max_rel_diff
for m in "${methods[@]}"; do
    setup "$m"
    T=(); K=()
    cat "$dir"/*.safetensors > /dev/null
    for r in $(seq "$repeats"); do
        rm -rf "$dir/out-mk" "$dir/out-tv.safetensors"
        t0=$(now); "$tv" merge "$dir/base.safetensors" "${tvargs[@]}" -o "$dir/out-tv.safetensors" --quiet; T+=("$(echo "$(now) - $t0" | bc -l)")
        t0=$(now); "$venv/bin/mergekit-pytorch" "$cfg" "$dir/out-mk" > /dev/null 2>&1; K+=("$(echo "$(now) - $t0" | bc -l)")
    done
    diff=-
    case $m in della|della_linear) ;; *) diff=$(compare "$dir/out-mk/model.safetensors" "$dir/out-tv.safetensors") ;; esac
    tm=$(median "${T[@]}"); km=$(median "${K[@]}")
    printf '%-13s %10.2f %10.2f %8.1f %10s\n' "$m" "$tm" "$km" "$(echo "$km / $tm" | bc -l)" "$diff"
done
echo "ratio = mergekit / tvtool (wall, medians of $repeats alternating runs); della*: random masks differ by design (no diff)"
