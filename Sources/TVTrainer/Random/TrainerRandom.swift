import CKernels
import Foundation

/// The trainer's own seeded PRNG, so runs are reproducible across platforms and Swift versions
/// (the standard library's generator is neither seedable nor specified).
///
/// xoshiro256** (Blackman & Vigna) with its state seeded by SplitMix64 from one UInt64, as its
/// authors recommend. Normals come from Box–Muller on two uniforms in (0, 1], both outputs used.
public struct TrainerRandom: RandomNumberGenerator, Sendable, Codable, Equatable {
    // The four state words as stored properties, not an array: `next()` runs ~10^4 times a
    // training step, and array element updates cost a uniqueness check each.
    private var s0, s1, s2, s3: UInt64
    private var spareNormal: Float?

    /// The xoshiro state words (saved for `--resume`).
    public var state: [UInt64] { [s0, s1, s2, s3] }

    public init(seed: UInt64) {
        var sm = seed
        s0 = TrainerRandom.splitMix64(&sm)
        s1 = TrainerRandom.splitMix64(&sm)
        s2 = TrainerRandom.splitMix64(&sm)
        s3 = TrainerRandom.splitMix64(&sm)
    }

    /// Restores a generator from `state` (e.g. saved for `--resume`).
    public init(state: [UInt64]) {
        precondition(state.count == 4)
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    private enum CodingKeys: String, CodingKey { case state, spareNormal }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let words = try c.decode([UInt64].self, forKey: .state)
        guard words.count == 4 else {
            throw DecodingError.dataCorruptedError(forKey: .state, in: c, debugDescription: "expected 4 state words")
        }
        self.init(state: words)
        spareNormal = try c.decodeIfPresent(Float.self, forKey: .spareNormal)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encodeIfPresent(spareNormal, forKey: .spareNormal)
    }

    /// A generator for an independent stream derived from this seed and a label (e.g. one per
    /// sampling seed or per data split), so streams never overlap by accident.
    public static func derived(seed: UInt64, stream: UInt64) -> TrainerRandom {
        var sm = seed ^ (stream &* 0x9E37_79B9_7F4A_7C15)
        return TrainerRandom(seed: splitMix64(&sm))
    }

    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits (exactly representable as Float).
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Uniform integer in [lower, upper) without modulo bias (Lemire's method via the stdlib).
    public mutating func int(in range: Range<Int>) -> Int { Int.random(in: range, using: &self) }

    /// Standard normal via Box–Muller (computed in Double, both outputs used).
    public mutating func normal() -> Float {
        if let s = spareNormal { spareNormal = nil; return s }
        let (c, s) = boxMullerPair()
        spareNormal = s
        return c
    }

    /// Fills `buffer` with standard normals: the same sequence as calling `normal()` for each.
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>) {
        var i = buffer.startIndex
        if i < buffer.endIndex, let s = spareNormal { buffer[i] = s; spareNormal = nil; i += 1 }
        while i + 1 < buffer.endIndex {
            (buffer[i], buffer[i + 1]) = boxMullerPair()
            i += 2
        }
        if i < buffer.endIndex { buffer[i] = normal() }
    }

    /// One Box–Muller pair (r cos a, r sin a). sincos gives the same bits as sin and cos
    /// separately (glibc shares their code) in one range reduction.
    private mutating func boxMullerPair() -> (Float, Float) {
        let u1 = 1.0 - uniformDouble()          // (0, 1]: log stays finite
        let u2 = uniformDouble()
        let r = (-2.0 * Foundation.log(u1)).squareRoot()
        let a = 2.0 * Double.pi * u2
        var s = 0.0, c = 0.0
        tv_sincos(a, &s, &c)
        return (Float(r * c), Float(r * s))
    }

    public mutating func normals(_ count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { fillNormal($0) }
        return out
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                let j = int(in: 0..<(i + 1))
                p.swapAt(i, j)
            }
        }
        return p
    }
}
