// Throughput of ElementConversion's bulk F16/BF16 <-> F32 loops (built by scripts/bench/halffloat.sh
// together with the library's own HalfFloat/ElementConversion/DType sources, -O).
import Foundation

let n = 1 << 22  // 4 M values per pass (16 MB of F32)
let reps = 10
var halfs = [UInt16](repeating: 0, count: n)
for i in 0..<n { halfs[i] = UInt16(truncatingIfNeeded: i &* 2654435761 >> 7) & 0x7bff }  // finite, mixed
var floats = [Float](repeating: 0, count: n)
var out16 = [UInt16](repeating: 0, count: n)

func measure(_ label: String, _ body: () -> Void) {
    var times: [Double] = []
    for _ in 0..<reps {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    times.sort()
    print(String(format: "%-14@ median %.2f G values/s (best %.2f)", label, Double(n) / times[reps / 2] / 1e9, Double(n) / times[0] / 1e9))
}

for dtype in [DType.f16, .bf16] {
    measure("\(dtype.rawValue) -> F32") {
        halfs.withUnsafeBytes { src in floats.withUnsafeMutableBufferPointer { ElementConversion.decode(src, from: dtype, into: $0) } }
    }
    measure("F32 -> \(dtype.rawValue)") {
        floats.withUnsafeBufferPointer { src in out16.withUnsafeMutableBytes { ElementConversion.encode(src, as: dtype, into: $0) } }
    }
}
var check: UInt64 = 0
for i in stride(from: 0, to: n, by: 4099) { check &+= UInt64(out16[i]) }
print("checksum \(check)")
