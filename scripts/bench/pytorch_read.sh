#!/usr/bin/env bash
# Reading a >= 1 GB PyTorch .bin vs the same tensors as .safetensors (issue 7: "near memory speed").
# Makes both files with torch/safetensors in a temp dir (or $BENCH_DIR), builds the TVStorage
# sources with -O into a throwaway binary, and reads every tensor's bytes, alternating formats.
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
