#!/usr/bin/env bash
# HDF5 read/write throughput through `tvtool convert` (and `inspect`), against the floor of
# reading the input (cat to /dev/null) and writing the same number of bytes (dd + fsync).
# usage: scripts/bench/hdf5_convert.sh [TOTAL_BYTES=1.1e9] [N_TENSORS=96]
# Needs python3 with h5py + numpy and ~5x TOTAL_BYTES of free space in $TMPDIR (default /tmp).
# Figures are noisy on a shared 2-core machine: run it more than once and take medians.
set -euo pipefail
cd "$(dirname "$0")/../.."
total=${1:-1.1e9}
count=${2:-96}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -c release --product tvtool >&2
tvtool=$(swift build -c release --show-bin-path)/tvtool

python3 scripts/bench/make_big_hdf5.py "$work/big.h5" "$total" "$count"
python3 scripts/bench/make_big_hdf5.py "$work/small.h5" 1e7 "$count"
bytes=$(stat -c %s "$work/big.h5")
gb=$(python3 -c "print($bytes/1e9)")
echo "input: $(python3 -c "print(f'{$bytes/1e9:.2f}')") GB, $count tensors"

run() {  # label, command...: prints seconds, GB/s of input and peak RSS
    local label=$1; shift
    sync
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null
    read -r secs rss < "$work/time"
    python3 -c "print(f'{\"$label\":44s} {$secs:6.2f} s  {$gb/max($secs,1e-9):5.2f} GB/s  peak RSS {$rss/1024:7.1f} MiB')"
}

run "floor: cat big.h5 > /dev/null" sh -c 'cat "$1" > /dev/null' _ "$work/big.h5"
run "floor: copy big.h5 + fsync (read + write)" sh -c 'cat "$1" > "$2" && sync "$2"' _ "$work/big.h5" "$work/copy.bin"
rm -f "$work/copy.bin"
run "inspect small.h5 (10 MB)" "$tvtool" inspect "$work/small.h5"
run "inspect big.h5" "$tvtool" inspect "$work/big.h5"
run "convert big.h5 -> .safetensors (F32)" "$tvtool" convert "$work/big.h5" "$work/out.safetensors"
run "convert big.h5 -> .safetensors --dtype f16" "$tvtool" convert "$work/big.h5" "$work/out16.safetensors" --dtype f16
rm -f "$work/out16.safetensors"
run "convert .safetensors -> .h5 (F32)" "$tvtool" convert "$work/out.safetensors" "$work/back.h5"
rm -f "$work/back.h5"
run "convert .safetensors -> .h5 --dtype bf16" "$tvtool" convert "$work/out.safetensors" "$work/back16.h5" --dtype bf16
rm -f "$work/back16.h5" "$work/out.safetensors"
run "reference: h5py reads every dataset" python3 -c "
import h5py, sys
with h5py.File(sys.argv[1]) as f:
    f.visititems(lambda n, o: o[()] if isinstance(o, h5py.Dataset) else None)" "$work/big.h5"
python3 scripts/bench/make_big_hdf5.py "$work/gz.h5" "$total" "$count" --gzip
run "convert gzip big.h5 -> .safetensors (F32)" "$tvtool" convert "$work/gz.h5" "$work/gz.safetensors"
run "reference: h5py reads every gzip dataset" python3 -c "
import h5py, sys
with h5py.File(sys.argv[1]) as f:
    f.visititems(lambda n, o: o[()] if isinstance(o, h5py.Dataset) else None)" "$work/gz.h5"
