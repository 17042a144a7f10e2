#!/usr/bin/env bash
# Storage benchmarks (issue 2). Prints medians of alternating runs; the machine is shared, so treat
# the figures as noisy. Big inputs are generated in $BENCH_DIR (default /tmp/tvtool-bench-storage), never
# committed; remove them with `rm -rf /tmp/tvtool-bench-storage`.
#
# 1. inspect: a >= 3 GB safetensors file vs a 10 MB one with the same number of tensors (target:
#    within 2x, since only the header is read).
# 2. convert F32 -> F16 of a >= 1 GB checkpoint vs the I/O floor: `cat IN > /dev/null` plus
#    writing the output's byte count with dd (conv=fsync, as the writer fsyncs). Target: within
#    1.5x of the floor; peak RSS a small multiple of the largest tensor.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-5}
DIR=${BENCH_DIR:-/tmp/tvtool-bench-storage}
BIG_BYTES=${BIG_BYTES:-3.2e9}
CONVERT_BYTES=${CONVERT_BYTES:-1.1e9}
mkdir -p "$DIR"
swift build -c release --product tvtool >/dev/null
TVTOOL=$(swift build -c release --show-bin-path)/tvtool

[ -f "$DIR/big.safetensors" ] || python3 scripts/bench/make_big_safetensors.py "$DIR/big.safetensors" "$BIG_BYTES" 700 --zeros
[ -f "$DIR/small.safetensors" ] || python3 scripts/bench/make_big_safetensors.py "$DIR/small.safetensors" 1e7 700
[ -f "$DIR/convert-in.safetensors" ] || python3 scripts/bench/make_big_safetensors.py "$DIR/convert-in.safetensors" "$CONVERT_BYTES" 160

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# time_cmd OUTFILE CMD...: appends "seconds maxrss_kb cpu_seconds" of one run.
time_cmd() { local out=$1; shift; /usr/bin/time -f "%e %M %U %S" -o "$DIR/.t" "$@" >/dev/null; awk '{ print $1, $2, $3 + $4 }' "$DIR/.t" >> "$out"; }

echo "== inspect (header only): $(du -h "$DIR/big.safetensors" | cut -f1) vs $(du -h "$DIR/small.safetensors" | cut -f1), 700 tensors each"
rm -f "$DIR/.big" "$DIR/.small"
for _ in $(seq "$RUNS"); do
    time_cmd "$DIR/.big" "$TVTOOL" inspect "$DIR/big.safetensors"
    time_cmd "$DIR/.small" "$TVTOOL" inspect "$DIR/small.safetensors"
done
big=$(cut -d' ' -f1 "$DIR/.big" | median); small=$(cut -d' ' -f1 "$DIR/.small" | median)
echo "inspect big:   median ${big}s  (peak RSS $(cut -d' ' -f2 "$DIR/.big" | median) KB)"
echo "inspect small: median ${small}s"
awk -v a="$big" -v b="$small" 'BEGIN { printf "ratio big/small: %.2f (target <= 2)\n", (b > 0 ? a / b : 0) }'

IN="$DIR/convert-in.safetensors"; OUT="$DIR/convert-out.safetensors"
in_bytes=$(stat -c %s "$IN")
cat "$IN" > /dev/null  # warm the page cache for both contenders alike
"$TVTOOL" convert "$IN" "$OUT" --dtype f16 --quiet >/dev/null
out_bytes=$(stat -c %s "$OUT")
largest=$("$TVTOOL" inspect "$IN" --json | python3 -c 'import json,sys; print(max(t["bytes"] for t in json.load(sys.stdin)["tensors"]))')
echo "== convert F32 -> F16: $in_bytes -> $out_bytes bytes, largest tensor $largest bytes"
rm -f "$DIR/.conv" "$DIR/.floor"
for _ in $(seq "$RUNS"); do
    rm -f "$OUT"
    time_cmd "$DIR/.conv" "$TVTOOL" convert "$IN" "$OUT" --dtype f16 --quiet
    rm -f "$OUT" "$DIR/floor.out" "$DIR/.cat" "$DIR/.dd"
    time_cmd "$DIR/.cat" cat "$IN"
    time_cmd "$DIR/.dd" dd if=/dev/zero of="$DIR/floor.out" bs=1M count=$((out_bytes / 1048576 + 1)) conv=fsync status=none
    paste -d' ' "$DIR/.cat" "$DIR/.dd" | awk '{ print $1 + $4, $3 + $6 }' >> "$DIR/.floor"
done
rm -f "$DIR/floor.out" "$OUT"
conv=$(cut -d' ' -f1 "$DIR/.conv" | median); floor=$(cut -d' ' -f1 "$DIR/.floor" | median)
conv_cpu=$(cut -d' ' -f3 "$DIR/.conv" | median); floor_cpu=$(cut -d' ' -f2 "$DIR/.floor" | median)
rss=$(cut -d' ' -f2 "$DIR/.conv" | sort -g | tail -1)
awk -v c="$conv" -v f="$floor" -v cc="$conv_cpu" -v fc="$floor_cpu" -v n="$in_bytes" -v r="$rss" -v l="$largest" 'BEGIN {
    printf "convert: median %.2fs wall = %.2f GB/s of input; floor (cat + dd) median %.2fs; ratio %.2f (target <= 1.5)\n", c, n / c / 1e9, f, c / f
    printf "CPU (user+sys): convert median %.2fs, floor median %.2fs (wall time is dominated by the shared disk)\n", cc, fc
    printf "peak RSS %.0f MB = %.1f x the largest tensor (%.0f MB)\n", r / 1024, r * 1024 / l, l / 1e6 }'
