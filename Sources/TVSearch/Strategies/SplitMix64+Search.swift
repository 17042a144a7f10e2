import Foundation
import TVStorage

/// The random strategies draw from TVStorage's seeded SplitMix64, so every random strategy
/// replays the same proposals on resume and on every shard.
extension SplitMix64 {
    /// Uniform in [0, 1) with 53 random bits.
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal (Box–Muller; one value per call, the partner is dropped for simplicity).
    mutating func normal() -> Double {
        let u1 = max(uniform(), 0x1p-60), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
