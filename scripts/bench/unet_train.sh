#!/usr/bin/env bash
# UNet training steps/s and evaluation images/s: tvtool's UNet2DModel against diffusers' on PyTorch
# CPU, same config and batch (32×32, channels 32/64, attention at 16×16, 2 layers per block,
# 8 groups, batch 64; scripts/bench/unet_train_torch.py), 1 and 2 threads, A/B alternately ROUNDS
# times; medians and ratios (tvtool / PyTorch, > 1 = tvtool faster). The Swift side is the library's
# UNet sources compiled with -O into a throwaway binary (the CLI runs the same code: train/finetune/eval --model unet).
# The machine may be shared: CPU ms per step is printed too (with its own median ratio, PyTorch CPU
# ms / tvtool CPU ms), and `uptime` around the runs. 3×3 convs run CKernels' direct kernels (AVX-512,
# or AVX2 on CPUs without it or with TVTOOL_NO_AVX512=1; TVTOOL_UNET_DIRECT=0 forces im2col + sgemm).
# Usage: scripts/bench/unet_train.sh [TRAIN_STEPS=10] [EVAL_BATCHES=10] [ROUNDS=3]
# UNET_TRAIN_BIN=FILE runs that bench binary (built by an earlier run, e.g. copied out of a worktree)
# instead of compiling one.
set -euo pipefail
cd "$(dirname "$0")/../.."
# OpenBLAS 0.3.21 does not recognise this virtualised Xeon and falls back to its SSE3 (Prescott)
# kernels; the machine's usual environment picks the AVX2 ones, as docs/trainer.md describes.
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
# TVTOOL_NO_AVX512=1 stands in for an AVX2-only CPU: tvtool runs its AVX2 kernels, and PyTorch is
# held to AVX2 too (ATen's kernels and oneDNN's convolutions), as it would be on such a CPU.
if [ -n "${TVTOOL_NO_AVX512:-}" ] && [ "${TVTOOL_NO_AVX512}" != 0 ]; then
  export ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
fi
echo "OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE TVTOOL_NO_AVX512=${TVTOOL_NO_AVX512:-unset}" \
     "ATEN_CPU_CAPABILITY=${ATEN_CPU_CAPABILITY:-unset} ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-unset}"
train_steps=${1:-10}
eval_batches=${2:-10}
rounds=${3:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ -n "${UNET_TRAIN_BIN:-}" ]; then
  cp "$UNET_TRAIN_BIN" "$out/unet_train"
else
  # CKernels as SwiftPM builds it: a module map and objects.
  mkdir "$out/CKernels"
  printf 'module CKernels {\n  umbrella header "%s"\n  export *\n}\n' "$PWD/Sources/CKernels/include/CKernels.h" > "$out/CKernels/module.modulemap"
  for c in Sources/CKernels/*.c; do clang -O2 -c -I Sources/CKernels/include -o "$out/$(basename "$c" .c).o" "$c"; done
  # TrainerError conforms to TVStorage's BadInputError; the bench binary declares that protocol itself.
  sed 's/^import TVStorage$/public protocol BadInputError: Error, CustomStringConvertible, Sendable {}/' \
      Sources/TVTrainer/TrainerError.swift > "$out/TrainerError.swift"
  cp scripts/bench/unet_train_main.swift "$out/main.swift"
  swiftc -O -wmo -module-name TVTrainer -I "$out/CKernels" -I Sources/COpenBLAS -o "$out/unet_train" \
      $(ls Sources/TVTrainer/Model/*.swift Sources/TVTrainer/BLAS/*.swift) Sources/TVTrainer/Diffusion/NoiseSchedule.swift \
      Sources/TVTrainer/Random/TrainerRandom.swift \
      Sources/TVTrainer/Training/AdamW.swift Sources/TVTrainer/Training/ParallelChunks.swift \
      $(ls Sources/TVTrainer/Model/UNet/*.swift | grep -v UNetFolder.swift) \
      "$out/TrainerError.swift" "$out/main.swift" "$out"/*.o -lopenblas
fi
uptime
lscpu | grep -E 'Model name|^CPU\(s\)' ; grep -q avx512f /proc/cpuinfo && echo "AVX-512: yes" || echo "AVX-512: no"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for mode in train eval; do
  n=$([ "$mode" = train ] && echo "$train_steps" || echo "$eval_batches")
  unit=$([ "$mode" = train ] && echo "steps/s" || echo "images/s")
  for threads in 1 2; do
    : > "$out/s"; : > "$out/t"; : > "$out/sc"; : > "$out/tc"
    for r in $(seq "$rounds"); do
      read -r sw sc <<< "$(OPENBLAS_NUM_THREADS=1 "$out/unet_train" "$mode" "$threads" "$n")"
      read -r tw tc <<< "$(OMP_NUM_THREADS=$threads python3 scripts/bench/unet_train_torch.py "$mode" "$threads" "$n")"
      echo "$mode threads $threads round $r: tvtool $sw $unit ($sc CPU ms/step), PyTorch $tw $unit ($tc CPU ms/step)"
      echo "$sw" >> "$out/s"; echo "$tw" >> "$out/t"; echo "$sc" >> "$out/sc"; echo "$tc" >> "$out/tc"
    done
    ms=$(median < "$out/s"); mt=$(median < "$out/t"); msc=$(median < "$out/sc"); mtc=$(median < "$out/tc")
    echo "$mode threads $threads median: tvtool $ms $unit ($msc CPU ms), PyTorch $mt $unit ($mtc CPU ms)," \
         "ratio wall $(python3 -c "print(f'{$ms/$mt:.2f}')")x, CPU $(python3 -c "print(f'{$mtc/$msc:.2f}')")x"
  done
done
uptime
