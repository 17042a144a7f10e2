// Throughput of ElementConversion's bulk F16/BF16 <-> F32 loops (built by scripts/bench/halffloat.sh
// together with the library's own HalfFloat/ElementConversion/DType sources and CKernels, -O).
import Foundation

let n = 1 << 22  // 4 M values per pass (16 MB of F32)
let reps = 21
var halfs = [UInt16](repeating: 0, count: n)
for i in 0..<n { halfs[i] = UInt16(truncatingIfNeeded: i &* 2654435761 >> 7) & 0x7bff }  // finite, mixed
var floats = [Float](repeating: 0, count: n)
var out16 = [UInt16](repeating: 0, count: n)

// The four cases run round-robin (alternating), so load from other processes hits them alike.
let cases: [(String, () -> Void)] = [DType.f16, .bf16].flatMap { dtype -> [(String, () -> Void)] in [
    ("\(dtype.rawValue) -> F32", {
        halfs.withUnsafeBytes { src in floats.withUnsafeMutableBufferPointer { ElementConversion.decode(src, from: dtype, into: $0) } }
    }),
    ("F32 -> \(dtype.rawValue)", {
        floats.withUnsafeBufferPointer { src in out16.withUnsafeMutableBytes { ElementConversion.encode(src, as: dtype, into: $0) } }
    }),
] } + [
    // The software loops used where the CPU lacks F16C (ElementConversion.halfHardware false).
    ("f16 -> F32 sw", {
        halfs.withUnsafeBufferPointer { src in floats.withUnsafeMutableBufferPointer { ElementConversion.decodeF16Software(src.baseAddress!, $0.baseAddress!, count: n) } }
    }),
    ("F32 -> f16 sw", {
        floats.withUnsafeBufferPointer { src in out16.withUnsafeMutableBufferPointer { ElementConversion.encodeF16Software(src.baseAddress!, $0.baseAddress!, count: n) } }
    }),
]
print("F16 hardware path: \(ElementConversion.halfHardware)")
var times = [[Double]](repeating: [], count: cases.count)
for _ in 0..<reps {
    for (i, c) in cases.enumerated() {
        let t0 = DispatchTime.now().uptimeNanoseconds
        c.1()
        times[i].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
}
for (i, c) in cases.enumerated() {
    let t = times[i].sorted()
    print(String(format: "%-14@ median %.2f G values/s (best %.2f)", c.0, Double(n) / t[reps / 2] / 1e9, Double(n) / t[0] / 1e9))
}
var check: UInt64 = 0
for i in stride(from: 0, to: n, by: 4099) { check &+= UInt64(out16[i]) }
print("checksum \(check)")
