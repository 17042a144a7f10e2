#!/usr/bin/env bash
# F16/BF16 <-> F32 bulk conversion throughput (target from native-stack.md: >= 2 G values/s for f16
# decode). Builds the library's conversion sources with -O into a throwaway binary in /tmp.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cp scripts/bench/halffloat_main.swift "$out/main.swift"
swiftc -O -wmo -module-name TVStorage -o "$out/halffloat" \
    Sources/TVStorage/Core/HalfFloat.swift Sources/TVStorage/Core/ElementConversion.swift \
    Sources/TVStorage/Core/DType.swift "$out/main.swift"
"$out/halffloat"
