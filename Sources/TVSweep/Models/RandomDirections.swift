import Foundation
import TVStorage

/// Seeded random directions normalised filter by filter against a reference model (Li et al.
/// 2018, "Visualizing the Loss Landscape of Neural Nets").
///
/// Direction k's values for a tensor are a pure function of (seed, k, tensor name), drawn from a
/// SplitMix64 stream with Box–Muller, so they are never stored: every process, shard and rerun
/// regenerates the same numbers. Each filter (one output row of a weight of rank >= 2; the whole
/// tensor for rank 0 and 1) is then rescaled to the norm of the same filter in the reference.
public struct RandomDirections: Sendable, Hashable {
    public let seed: UInt64
    public let count: Int

    public init(seed: UInt64, count: Int) {
        self.seed = seed
        self.count = count
    }

    /// Direction `k` for one tensor, shaped like `reference`.
    public func direction(_ k: Int, tensor name: String, shape: [Int], reference: [Float]) -> [Float] {
        var rng = SplitMix64(seed: streamKey(k, name))
        var d = [Float](repeating: 0, count: reference.count)
        var i = 0
        while i < d.count {
            // Box–Muller: two uniforms in (0, 1] give two independent standard normals.
            let u1 = Double(rng.next() >> 11 + 1) * 0x1p-53
            let u2 = Double(rng.next() >> 11) * 0x1p-53
            let r = (-2 * log(u1)).squareRoot()
            d[i] = Float(r * cos(2 * .pi * u2))
            if i + 1 < d.count { d[i + 1] = Float(r * sin(2 * .pi * u2)) }
            i += 2
        }
        let rows = shape.count >= 2 ? shape[0] : 1
        let width = rows > 0 ? d.count / rows : 0
        for row in 0..<rows where width > 0 {
            let range = row * width ..< (row + 1) * width
            var dn = 0.0, rn = 0.0
            for j in range { dn += Double(d[j]) * Double(d[j]); rn += Double(reference[j]) * Double(reference[j]) }
            let scale = dn > 0 ? Float(rn.squareRoot() / dn.squareRoot()) : 0
            for j in range { d[j] *= scale }
        }
        return d
    }

    private func streamKey(_ k: Int, _ name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        var mix = SplitMix64(seed: seed ^ (UInt64(k) &* 0x9e37_79b9_7f4a_7c15))
        return h ^ mix.next()
    }
}
