#!/usr/bin/env bash
# Reading a >= 1 GB PyTorch .bin vs the same tensors as .safetensors (issue 7: "near memory speed").
# Makes both files with torch/safetensors in a temp dir (or $BENCH_DIR), then
#  1. builds the TVStorage sources with -O into a throwaway binary that reads every tensor's bytes
#     (a checksum pass over the page-cached files), alternating formats, with and without CRC;
#  2. times `tvtool convert model.bin` vs `tvtool convert model.safetensors` to .safetensors with
#     the release tvtool (built if missing), alternating, medians.
# Usage: scripts/bench/pytorch_read.sh [size_mb=1200] [rounds=5]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mb=${1:-1200}
rounds=${2:-5}
dir=${BENCH_DIR:-$(mktemp -d /tmp/tvtool-bench-pytorch.XXXX)}
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" "$size_mb" <<'PY'
import sys, torch
from safetensors.torch import save_file
d, size_mb = sys.argv[1], int(sys.argv[2])
g = torch.Generator().manual_seed(0)
sd, total, i = {}, 0, 0
while total < size_mb * 1e6:  # a UNet-like mix: mostly f32 matrices, some f16, small biases
    t = torch.randn(1024, 2048, generator=g)
    sd[f"down.{i}.weight"] = t if i % 3 else t.half()
    sd[f"down.{i}.bias"] = torch.randn(1024, generator=g)
    total += sd[f"down.{i}.weight"].nbytes + 4096
    i += 1
torch.save(sd, f"{d}/model.bin")
save_file(sd, f"{d}/model.safetensors")
print(f"{len(sd)} tensors, {total / 1e9:.2f} GB")
PY
cp scripts/bench/pytorch_read_main.swift "$dir/main.swift"
swiftc -O -wmo -module-name TVStorage -o "$dir/pytorch_read" \
    -I Sources/CZlib -I Sources/CHDF5 -Xcc -I/usr/include/hdf5/serial \
    -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lz \
    $(find Sources/TVStorage -name '*.swift') "$dir/main.swift"
"$dir/pytorch_read" "$dir/model.bin" "$dir/model.safetensors" "$rounds"

echo "== tvtool convert (release build), medians of $rounds alternating runs"
[ -x .build/release/tvtool ] || swift build -c release --product tvtool >/dev/null
tvtool=.build/release/tvtool
time_convert() {  # prints seconds for one conversion of $1
    rm -f "$dir/out.safetensors"
    local t0 t1
    t0=$(date +%s.%N)
    "$tvtool" convert "$1" "$dir/out.safetensors" >/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}
time_convert "$dir/model.bin" >/dev/null  # warm-up
bin_times=(); st_times=()
for _ in $(seq "$rounds"); do
    bin_times+=("$(time_convert "$dir/model.bin")")
    st_times+=("$(time_convert "$dir/model.safetensors")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mb=$(median "${bin_times[@]}"); ms=$(median "${st_times[@]}")
echo "convert model.bin         median ${mb} s   (runs: ${bin_times[*]})"
echo "convert model.safetensors median ${ms} s   (runs: ${st_times[*]})"
echo "ratio bin/safetensors: $(echo "scale=2; $mb / $ms" | bc)"
