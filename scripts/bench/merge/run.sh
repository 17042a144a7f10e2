#!/usr/bin/env bash
# Times the DeMe merge (task arithmetic, 4 finetuned models, weights 0.1,0.1,0.2,0.5) of synthetic
# SD-1.x-UNet-shaped checkpoints with a warm page cache, against the floor (cat every input to
# /dev/null + write the output's bytes) and a numpy+safetensors streaming script.
#
# usage: [TVTOOL=binary] scripts/bench/merge/run.sh [f16|f32] [scale] [repeats]
# Data goes to /tmp/tvtool-bench/<dtype>[-<scale>] (generated on first use, ~1.7 GB per F16 model).
# Outputs go to $OUTDIR (default /dev/shm, else /tmp/tvtool-bench). tvtool's writer fsyncs before
# its atomic rename, so the floor's output write uses dd conv=fsync too (a no-op on tmpfs).
# The machine is shared: note `uptime` before trusting the figures; runs alternate A/B, medians.
set -euo pipefail
cd "$(dirname "$0")/../../.."
dtype=${1:-f16}
scale=${2:-1.0}
repeats=${3:-3}
dir=/tmp/tvtool-bench/$dtype$([ "$scale" = 1.0 ] || echo "-$scale")
outdir=${OUTDIR:-$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp/tvtool-bench )}
out=$outdir/tvtool-bench-out-$dtype.safetensors
[ -f "$dir/ft4.safetensors" ] || python3 scripts/bench/merge/make_unet.py "$dir" --dtype "$dtype" --scale "$scale"
# TVTOOL=/path/to/tvtool times that binary instead of building this checkout (old vs new A/B).
if [ -n "${TVTOOL:-}" ]; then
    tv=$TVTOOL
else
    swift build -c release --product tvtool >/dev/null
    tv=$(swift build -c release --show-bin-path)/tvtool
fi
inputs=("$dir/base.safetensors" "$dir/ft1.safetensors" "$dir/ft2.safetensors" "$dir/ft3.safetensors" "$dir/ft4.safetensors")
outbytes=$(stat -c %s "$dir/base.safetensors")
echo "machine: $(nproc) cores, load: $(uptime | sed 's/.*load average: //')"
echo "inputs: 5 x $(numfmt --to=iec "$outbytes") ($dtype, scale $scale)"

now() { date +%s.%N; }
floor_once() {
    local t0 t1 t2
    t0=$(now); cat "${inputs[@]}" > /dev/null; t1=$(now)
    dd if=/dev/zero of="$out.floor" bs=1M count=$(( (outbytes + 1048575) / 1048576 )) conv=fsync status=none; t2=$(now); rm -f "$out.floor"
    echo "$t1 - $t0 + $t2 - $t1" | bc -l
}
# timed CMD...: prints "seconds maxrss_kb"
timed() {
    /usr/bin/time -f "%e %M %U %S" -o /tmp/tvtool-bench/time.txt "$@" > /dev/null 2>&1
    cat /tmp/tvtool-bench/time.txt
}
# numpy holds the whole model (~8 GB RSS at F16) and evicts part of the page cache, so its runs
# come after the tvtool/floor pairs, each after re-warming the cache; NUMPY_REPEATS=0 skips them.
numpy_repeats=${NUMPY_REPEATS:-$repeats}
declare -a F T N TR NR
for r in $(seq "$repeats"); do
    cat "${inputs[@]}" > /dev/null  # warm the page cache
    F+=("$(floor_once)")
    read -r s m u k < <(timed "$tv" merge "${inputs[@]}" --weights 0.1,0.1,0.2,0.5 -o "$out" --quiet); T+=("$s"); TR+=("$m"); rm -f "$out"
    echo "run $r: floor ${F[-1]} s, tvtool ${T[-1]} s (RSS ${TR[-1]} KB, user $u sys $k)"
done
for r in $(seq "$numpy_repeats"); do
    cat "${inputs[@]}" > /dev/null
    read -r s m u k < <(timed python3 scripts/bench/merge/merge_numpy.py "$out" "${inputs[@]}" --weights 0.1,0.1,0.2,0.5); N+=("$s"); NR+=("$m"); rm -f "$out"
    echo "numpy run $r: ${N[-1]} s (RSS ${NR[-1]} KB, user $u sys $k)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
f=$(median "${F[@]}"); t=$(median "${T[@]}")
echo "median: floor $f s (${F[*]}), tvtool $t s (${T[*]})"
echo "tvtool / floor = $(echo "$t / $f" | bc -l | cut -c1-5)"
echo "peak RSS: tvtool $(median "${TR[@]}") KB"
if [ "$numpy_repeats" -gt 0 ]; then
    n=$(median "${N[@]}")
    echo "numpy median $n s, numpy / tvtool = $(echo "$n / $t" | bc -l | cut -c1-5), peak RSS numpy $(median "${NR[@]}") KB"
fi
echo "(peak RSS target: < 1 GiB + largest tensor)"
echo "load after: $(uptime | sed 's/.*load average: //')"
