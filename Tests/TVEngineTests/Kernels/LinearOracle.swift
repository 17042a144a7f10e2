import Foundation
import TVStorage
@testable import TVEngine

/// A float64 oracle for theta' = s · theta + Σ_i c_i tau_i, written independently of the engine:
/// plain Double arithmetic, and an explicit power-of-two rounding to the output dtype.
///
/// With `f32: true` it models DeMe's torch code in F32 (each tau_i, c_i·tau_i and partial sum
/// rounded to F32: Double carries more than 2·24+2 bits, so rounding an exact Double result to
/// Float is the correctly rounded F32 operation); with `f32: false` it is the F64 computation.
/// Either way the result is rounded once to the output dtype.
enum LinearOracle {
    /// One output element. `models[i]` is nil for a model that lacks the tensor.
    static func element(base b: Double, models: [Double?], isTaskVector: [Bool], coefficients: [Double],
                        baseScale: Double, f32: Bool, output: DType) -> Double {
        let r: (Double) -> Double = f32 ? { Double(Float($0)) } : { $0 }
        var acc: Double?
        for (i, x) in models.enumerated() {
            let c = r(coefficients[i])
            guard c != 0, let x else { continue }
            let t = r(c * (isTaskVector[i] ? x : r(x - b)))
            acc = acc.map { r($0 + t) } ?? t
        }
        let s = r(baseScale)
        let value: Double
        if let acc {
            value = s == 1 ? r(b + acc) : s == 0 ? acc : r(r(s * b) + acc)
        } else {
            value = s == 1 ? b : s == 0 ? 0 : r(s * b)
        }
        return roundOnce(value, to: output)
    }

    /// `d` rounded to nearest even in `dtype` (F16, BF16, F32, F64), overflow to infinity.
    static func roundOnce(_ d: Double, to dtype: DType) -> Double {
        guard d.isFinite, d != 0 else { return d }
        let (precision, minExponent, maxFinite): (Int, Int, Double)
        switch dtype {
        case .f16: (precision, minExponent, maxFinite) = (11, -14, 65504)
        case .bf16: (precision, minExponent, maxFinite) = (8, -126, Double(Float(bitPattern: 0x7f7f_0000)))
        case .f32: (precision, minExponent, maxFinite) = (24, -126, Double(Float.greatestFiniteMagnitude))
        default: return d
        }
        // The spacing of the target format at |d| (subnormals share the smallest normal spacing).
        let exponent = max(Int(d.exponent), minExponent)
        let ulp = Double(sign: .plus, exponent: exponent - (precision - 1), significand: 1)
        let rounded = (d / ulp).rounded(.toNearestOrEven) * ulp  // both steps exact: powers of two
        return abs(rounded) > maxFinite ? (rounded < 0 ? -.infinity : .infinity) : rounded
    }

    /// Same value, or both NaN; zeros must agree in sign.
    static func same(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        return a == b && a.sign == b.sign
    }
}

/// Test operands: SD-like (a base and small finetuning deltas, where merged values often sit on
/// output-dtype rounding midpoints) or wide (many binades plus zeros, subnormals, overflow, inf, NaN).
enum OracleData {
    enum Regime { case sdLike, wide }

    static func base(_ n: Int, seed: UInt64, regime: Regime) -> [Float] {
        switch regime {
        case .sdLike: return randomFloats(n, seed: seed, scale: 0.1)
        case .wide: return wide(n, seed: seed)
        }
    }

    /// A finetuned model of `base`: base + small noise (SD-like) or independent wide values.
    static func model(of base: [Float], seed: UInt64, regime: Regime) -> [Float] {
        switch regime {
        case .sdLike:
            let noise = randomFloats(base.count, seed: seed, scale: 0.004)
            return zip(base, noise).map { $0 + $1 }
        case .wide: return wide(base.count, seed: seed)
        }
    }

    static func wide(_ n: Int, seed: UInt64) -> [Float] {
        var v = (0..<n).map { i -> Float in
            let u = CounterRandom.uniform(key: seed, index: i) * 2 - 1
            let e = CounterRandom.uniform(key: seed &+ 99, index: i) * 40 - 20
            return u * Float(pow(2.0, Double(e)))
        }
        let specials: [Float] = [0, -0.0, 1e-7, -6e-8, 70000, -1e30, .infinity, -.infinity, .nan, 65504, 2.98e-8, Float(bitPattern: 0x0001_1000)]  // the last: an F32 subnormal
        for (k, s) in specials.enumerated() where n > 0 { v[(k * 37 + Int(seed % 5)) % n] = s }
        return v
    }
}
