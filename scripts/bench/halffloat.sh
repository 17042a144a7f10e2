#!/usr/bin/env bash
# F16/BF16 <-> F32 bulk conversion throughput (target from native-stack.md: >= 2 G values/s for f16
# decode). Builds the library's conversion sources with -O into a throwaway binary in /tmp.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cp scripts/bench/halffloat_main.swift "$out/main.swift"
# The F16C hardware path (C target CKernels), as SwiftPM builds it: a module map and an object.
mkdir "$out/CKernels"
printf 'module CKernels {\n  header "%s"\n  export *\n}\n' "$PWD/Sources/CKernels/include/half_convert.h" \
    > "$out/CKernels/module.modulemap"
clang -O2 -c -I Sources/CKernels/include -o "$out/half_convert.o" Sources/CKernels/half_convert.c
swiftc -O -wmo -module-name TVStorage -I "$out/CKernels" -o "$out/halffloat" \
    Sources/TVStorage/Core/HalfFloat.swift Sources/TVStorage/Core/ElementConversion.swift \
    Sources/TVStorage/Core/DType.swift "$out/main.swift" "$out/half_convert.o"
"$out/halffloat"
