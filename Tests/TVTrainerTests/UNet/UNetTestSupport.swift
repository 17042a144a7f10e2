import Foundation
import TVStorage
@testable import TVTrainer

/// Shared pieces of the UNet tests: the hashed weights of fixtures/unet/make.py, fixture tensors,
/// the MSE loss and its gradient, and error measures.
enum UNetTestSupport {
    /// fixtures/unet/make.py's hashed_uniform: FNV-1a of the name, then an integer hash per index.
    static func hashedUniform(_ name: String, _ n: Int) -> [Double] {
        var h: UInt32 = 0x811C_9DC5
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 0x0100_0193 }
        return (0..<n).map { j in
            var s = h &+ UInt32(truncatingIfNeeded: UInt64(j) &* 0x9E37_79B1)
            s = (s ^ (s >> 15)) &* 0x2C1B_3C6D
            s ^= s >> 12
            return Double(s) / 4_294_967_296.0
        }
    }

    /// fixtures/unet/make.py's hashed_weights for a layout.
    static func hashedWeights(_ layout: ParameterLayout) -> [Float] {
        var values = [Float](repeating: 0, count: layout.count)
        for e in layout.entries {
            let u = hashedUniform(e.name, e.count).map { 2 * $0 - 1 }
            let isNorm = e.name.contains("norm")
            let weightName = e.name.hasSuffix(".bias") ? String(e.name.dropLast(4)) + "weight" : e.name
            let fanIn = Double(layout.entry(weightName)!.shape.dropFirst().reduce(1, *))
            for j in 0..<e.count {
                let v: Double = isNorm ? (e.name.hasSuffix(".weight") ? 1 + 0.2 * u[j] : 0.1 * u[j]) : u[j] / fanIn.squareRoot()
                values[e.offset + j] = Float(v)
            }
        }
        return values
    }

    static func tensors(_ path: String) throws -> [String: Tensor] {
        let r = try Checkpoints.open(path)
        var out: [String: Tensor] = [:]
        for info in r.tensors { out[info.name] = try r.tensor(named: info.name) }
        return out
    }

    static func ints(_ t: Tensor) throws -> [Int] {
        t.withUnsafeBytes { raw in (0..<t.elementCount).map { Int(raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) } }
    }

    /// mean((out - target)²) and its gradient 2(out - target)/n.
    static func mse(_ out: [Float], _ target: [Float]) -> (Double, [Float]) {
        let n = Float(out.count)
        var loss = 0.0
        var grad = [Float](repeating: 0, count: out.count)
        for i in 0..<out.count {
            let d = out[i] - target[i]
            loss += Double(d) * Double(d); grad[i] = 2 * d / n
        }
        return (loss / Double(out.count), grad)
    }

    /// max |a - b| / max |b|: the error relative to the reference's scale. The scale is at least
    /// 1e-6, because some gradients are exactly zero in exact arithmetic (to_k.bias: a constant
    /// added to every key's score cancels in the softmax), and both sides hold rounding noise there.
    static func relativeMaxError(_ a: [Float], _ b: [Float]) -> Double {
        var diff = 0.0, scale = 0.0
        for i in 0..<b.count { diff = max(diff, Double(abs(a[i] - b[i]))); scale = max(scale, Double(abs(b[i]))) }
        return diff / max(scale, 1e-6)
    }
}
