#!/usr/bin/env bash
# Whole-pipeline SD merge (unet + vae + text_encoder, all three differing) against the UNet-only
# merge of the same folders: DeMe's task arithmetic, 4 finetuned models, weights 0.1,0.1,0.2,0.5.
# Runs alternate A/B; prints each run's wall time, max RSS and the medians' ratio.
#
# usage: scripts/bench/merge/pipeline.sh [f16|f32] [scale] [repeats]
# Data: /tmp/tvtool-bench/pipeline-<dtype>-<scale> (made on first use). Outputs under $OUTDIR (/dev/shm).
set -euo pipefail
cd "$(dirname "$0")/../../.."
dtype=${1:-f16}
scale=${2:-0.25}
repeats=${3:-3}
dir=/tmp/tvtool-bench/pipeline-$dtype-$scale
outdir=${OUTDIR:-$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp/tvtool-bench )}
[ -f "$dir/ft4/model_index.json" ] || python3 scripts/bench/merge/make_pipeline.py "$dir" --dtype "$dtype" --scale "$scale"
swift build -c release --product tvtool >/dev/null
tv=$(swift build -c release --show-bin-path)/tvtool
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, avx512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no)"
echo "load: $(uptime | sed 's/.*load average: //') (shared machine)"
cat "$dir"/*/*/*.safetensors > /dev/null  # warm the page cache
w=0.1,0.1,0.2,0.5
pipe() { rm -rf "$outdir/tvb-pipe"; /usr/bin/time -f "%e %M" -o /tmp/tvtool-bench/t.txt "$tv" merge "$dir/base" "$dir/ft1" "$dir/ft2" "$dir/ft3" "$dir/ft4" --weights $w -o "$outdir/tvb-pipe/" --quiet; cat /tmp/tvtool-bench/t.txt; }
unet() { rm -f "$outdir/tvb-unet.safetensors"; /usr/bin/time -f "%e %M" -o /tmp/tvtool-bench/t.txt "$tv" merge "$dir/base/unet" "$dir/ft1/unet" "$dir/ft2/unet" "$dir/ft3/unet" "$dir/ft4/unet" --weights $w -o "$outdir/tvb-unet.safetensors" --quiet; cat /tmp/tvtool-bench/t.txt; }
P=(); U=()
for r in $(seq "$repeats"); do
    read -r tp mp < <(pipe); read -r tu mu < <(unet)
    echo "run $r: pipeline ${tp}s ${mp}KB   unet ${tu}s ${mu}KB"
    P+=("$tp"); U+=("$tu")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mp=$(med "${P[@]}"); mu=$(med "${U[@]}")
echo "median: pipeline ${mp}s, unet ${mu}s, ratio $(echo "$mp / $mu" | bc -l | cut -c1-5)"
echo "bytes: pipeline $(du -cb "$dir"/base/*/*.safetensors | tail -1 | cut -f1), unet $(stat -c %s "$dir/base/unet/diffusion_pytorch_model.safetensors")"
rm -rf "$outdir/tvb-pipe" "$outdir/tvb-unet.safetensors"
