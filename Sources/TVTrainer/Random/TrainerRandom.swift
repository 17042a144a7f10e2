import Foundation

/// The trainer's own seeded PRNG, so runs are reproducible across platforms and Swift versions
/// (the standard library's generator is neither seedable nor specified).
///
/// xoshiro256** (Blackman & Vigna) with its state seeded by SplitMix64 from one UInt64, as its
/// authors recommend. Normals come from Box–Muller on two uniforms in (0, 1], both outputs used.
public struct TrainerRandom: RandomNumberGenerator, Sendable, Codable, Equatable {
    public private(set) var state: [UInt64]
    private var spareNormal: Float?

    public init(seed: UInt64) {
        var sm = seed
        var s = [UInt64](repeating: 0, count: 4)
        for i in 0..<4 { s[i] = TrainerRandom.splitMix64(&sm) }
        state = s
    }

    /// Restores a generator from `state` (e.g. saved for `--resume`).
    public init(state: [UInt64]) {
        precondition(state.count == 4)
        self.state = state
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
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
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
        let u1 = 1.0 - uniformDouble()          // (0, 1]: log stays finite
        let u2 = uniformDouble()
        let r = (-2.0 * Foundation.log(u1)).squareRoot()
        let a = 2.0 * Double.pi * u2
        spareNormal = Float(r * Foundation.sin(a))
        return Float(r * Foundation.cos(a))
    }

    /// Fills `buffer` with standard normals.
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>) {
        for i in buffer.indices { buffer[i] = normal() }
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
