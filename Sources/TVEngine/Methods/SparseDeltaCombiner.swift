/// The per-element rule shared by TIES, DARE and breadcrumbs: sparsify each task vector, then
/// either sum them (task arithmetic) or elect a sign and take the disjoint mean (TIES).
///
///   mask      .magnitude(lo, hi): keep lo ≤ |tau| < hi (Float bit-pattern thresholds, see
///             MagnitudeSelector); .random(key, density): keep with probability density and
///             rescale kept entries by exactly 1/density = 1/(1-p); .none keeps everything.
///   consensus .sum:  theta + lambda Σ w_i tau'_i   (divided by Σ w_i when `normalize`)
///             .signElection: s = sign(Σ w_i tau'_i) (0 → sign of (#positive - #negative));
///             merged = Σ_{agreeing} w_i tau'_i / Σ_{agreeing} w_i  (plain sum without
///             `normalize`); theta + lambda · merged. With equal weights this is the TIES paper's
///             disjoint mean; weighting the election and the mean by w_i follows mergekit.
struct SparseDeltaCombiner: ChunkCombiner {
    enum Mask: Sendable {
        case none
        case magnitude(low: UInt32, high: UInt32?)
        case random(key: UInt64, density: Double)
    }

    enum Consensus: Sendable { case sum, signElection }

    let masks: [Mask]
    let weights: [Double]
    let lambda: Double
    let consensus: Consensus
    let normalize: Bool

    func combine(_ chunk: DecodedChunk<Float>) { run(chunk) }
    func combine(_ chunk: DecodedChunk<Double>) { run(chunk) }

    @inline(__always)
    private func run<T: ComputeScalar>(_ chunk: DecodedChunk<T>) {
        let n = chunk.count
        for (i, d) in chunk.deltas.enumerated() { applyMask(masks[i], d, offset: chunk.offset, count: n) }
        let w = weights.map { T($0) }
        let lambda = T(self.lambda)
        switch consensus {
        case .sum:
            let scale = normalize ? T(1 / max(weights.reduce(0, +), .leastNonzeroMagnitude)) : 1
            for j in 0..<n { chunk.out[j] = 0 }
            for (i, d) in chunk.deltas.enumerated() { ElementwiseKernels.axpy(chunk.out, w[i], d, count: n) }
            for j in 0..<n { chunk.out[j] = chunk.base[j] + lambda * scale * chunk.out[j] }
        case .signElection:
            let m = chunk.deltas.count
            for j in 0..<n {
                var total: T = 0
                var votes = 0
                for i in 0..<m {
                    let x = chunk.deltas[i][j]
                    total += w[i] * x
                    votes += x > 0 ? 1 : (x < 0 ? -1 : 0)
                }
                let sign: T = total > 0 ? 1 : (total < 0 ? -1 : (votes > 0 ? 1 : (votes < 0 ? -1 : 0)))
                var sum: T = 0
                var weight: T = 0
                if sign != 0 {
                    for i in 0..<m {
                        let x = chunk.deltas[i][j]
                        if x * sign > 0 { sum += w[i] * x; weight += w[i] }
                    }
                }
                let merged: T = normalize ? (weight != 0 ? sum / weight : 0) : sum
                chunk.out[j] = chunk.base[j] + lambda * merged
            }
        }
    }

    @inline(__always)
    private func applyMask<T: ComputeScalar>(_ mask: Mask, _ d: UnsafeMutablePointer<T>, offset: Int, count n: Int) {
        switch mask {
        case .none:
            return
        case let .magnitude(low, high):
            for j in 0..<n {
                let bits = Float(Swift.abs(d[j])).bitPattern
                let keep = low != MagnitudeSelector.keepNothing && bits >= low && (high.map { bits < $0 } ?? true)
                if !keep { d[j] = 0 }
            }
        case let .random(key, density):
            guard density > 0 else { d.update(repeating: 0, count: n); return }
            let p = Float(density)
            let rescale = T(1 / density)
            for j in 0..<n {
                d[j] = CounterRandom.uniform(key: key, index: offset + j) < p ? d[j] * rescale : 0
            }
        }
    }
}
