#!/usr/bin/env bash
# GEMM-level comparison of tv_mlp_gemm and OpenBLAS (scripts/bench/mlp_gemm_kernel.c) for the
# kernel sets an AVX-512 and an AVX2-only CPU run: CKernels AVX-512 + OpenBLAS Haswell, and
# CKernels AVX2 (TVTOOL_NO_AVX512=1) + OpenBLAS Zen, then Haswell. Needs clang and libopenblas-dev.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
k=Sources/CKernels
clang -O2 -I$k/include -I/usr/include/x86_64-linux-gnu/openblas-pthread scripts/bench/mlp_gemm_kernel.c \
    $k/mlp_gemm.c $k/vector_width.c -lopenblas -lm -lpthread -o "$out/bench"
lscpu | grep -E 'Model name'; uptime
OPENBLAS_CORETYPE=Haswell "$out/bench"
TVTOOL_NO_AVX512=1 OPENBLAS_CORETYPE=Zen "$out/bench"
TVTOOL_NO_AVX512=1 OPENBLAS_CORETYPE=Haswell "$out/bench"
uptime
