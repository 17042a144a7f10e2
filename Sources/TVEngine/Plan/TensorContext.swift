import TVStorage

/// What a merge method sees of one tensor: its name, its operands, the parameters resolved for it,
/// and the reductions it may need (run as extra passes over the operands).
public struct TensorContext {
    public let name: String
    public let operands: TensorOperands
    public let parameters: MergeParameters
    public let precision: ComputePrecision
    public let runner: ChunkRunner
    /// Method-wide seed (DARE).
    public let seed: UInt64
    /// false keeps reductions on the portable decoded-chunk loops (MergeOptions.fusedKernels).
    public var fusedKernels = true

    public var modelCount: Int { operands.models.count }
    public var elementCount: Int { operands.elementCount }

    /// A per-model parameter resolved for this tensor (rules first, then global, then `default`).
    public func perModel(_ key: String, default value: Double) throws -> [Double] {
        guard let v = parameters.value(key, tensor: name) else { return Array(repeating: value, count: modelCount) }
        return try v.forModels(modelCount, key: key, source: "tensor '\(name)'")
    }

    /// A single-valued parameter resolved for this tensor.
    public func scalar(_ key: String, default value: Double) throws -> Double {
        switch parameters.value(key, tensor: name) {
        case nil: return value
        case .scalar(let v)?: return v
        case .perModel(let vs)?:
            if let first = vs.first, vs.allSatisfy({ $0 == first }) { return first }
            throw EngineError.badParameter(source: "tensor '\(name)'", reason: "'\(key)' takes one value, not one per model")
        }
    }

    /// Gram matrix of [theta, tau_1, …, tau_n] (dot products in Double), plus per-model max |tau|
    /// and non-zero counts: enough for norms, cosines, slerp angles and diff summaries.
    public func statistics() -> TensorStatistics {
        switch precision {
        case .f32: return TensorStatistics.compute(operands, runner: runner, as: Float.self)
        case .f64: return TensorStatistics.compute(operands, runner: runner, as: Double.self)
        }
    }

    /// Per-model exact k-th largest |tau_i| thresholds for this tensor (see MagnitudeSelector).
    public func magnitudeThresholds(ranks: [[Int]]) -> [[UInt32]] {
        if precision == .f32, fusedKernels,
           let t = FusedSelection.thresholds(ranks: ranks, operands: operands, runner: runner) { return t }
        let selector = MagnitudeSelector(ranks: ranks, segments: runner.workers)
        feed(selector, fine: false)
        if selector.finishCoarse() { feed(selector, fine: true) }
        return selector.thresholds()
    }

    /// Runs one selector pass over this tensor's task vectors.
    public func feed(_ selector: MagnitudeSelector, fine: Bool) {
        switch precision {
        case .f32: feed(selector, fine: fine, as: Float.self)
        case .f64: feed(selector, fine: fine, as: Double.self)
        }
    }

    private func feed<T: ComputeScalar>(_ selector: MagnitudeSelector, fine: Bool, as: T.Type) {
        if T.self == Float.self, fusedKernels,
           FusedMagnitude.feed(selector, fine: fine, operands: operands, runner: runner) { return }
        runner.forEachChunk(operands, as: T.self) { segment, chunk in
            for (m, d) in chunk.deltas.enumerated() {
                if fine {
                    selector.feedFine(segment: segment, model: m, d, count: chunk.count)
                } else {
                    selector.feedCoarse(segment: segment, model: m, d, count: chunk.count)
                }
            }
        }
    }
}

/// One pass's sums over a tensor. `gram[0][0]` = |theta|², `gram[i+1][j+1]` = tau_i · tau_j.
public struct TensorStatistics: Sendable {
    public var gram: [[Double]]
    public var maxAbsDelta: [Double]
    public var nonZeroDeltas: [Int]

    public func deltaNorm(_ i: Int) -> Double { gram[i + 1][i + 1].squareRoot() }
    public var baseNorm: Double { gram[0][0].squareRoot() }

    /// Cosine of tau_i and tau_j, nil when either is zero.
    public func cosine(_ i: Int, _ j: Int) -> Double? {
        let d = deltaNorm(i) * deltaNorm(j)
        return d > 0 ? gram[i + 1][j + 1] / d : nil
    }

    static func compute<T: ComputeScalar>(_ operands: TensorOperands, runner: ChunkRunner, as: T.Type) -> TensorStatistics {
        let m = operands.models.count
        let k = m + 1
        let segments = runner.segmentCount(elements: operands.elementCount)
        let empty = TensorStatistics(gram: Array(repeating: Array(repeating: 0, count: k), count: k),
                                     maxAbsDelta: Array(repeating: 0, count: m), nonZeroDeltas: Array(repeating: 0, count: m))
        let slots = SegmentSlots(count: segments, initial: empty)
        runner.forEachChunk(operands, as: T.self) { segment, chunk in
            var s = slots[segment]
            let vectors = [UnsafePointer(chunk.base)] + chunk.deltas.map { UnsafePointer($0) }
            for i in 0..<k {
                for j in i..<k {
                    s.gram[i][j] += ElementwiseKernels.dot(vectors[i], vectors[j], count: chunk.count)
                }
            }
            for i in 0..<m {
                s.maxAbsDelta[i] = max(s.maxAbsDelta[i], ElementwiseKernels.maxMagnitude(vectors[i + 1], count: chunk.count))
                s.nonZeroDeltas[i] += ElementwiseKernels.nonZeroCount(vectors[i + 1], count: chunk.count)
            }
            slots[segment] = s
        }
        var total = empty
        for s in slots.all {
            for i in 0..<k { for j in i..<k { total.gram[i][j] += s.gram[i][j] } }
            for i in 0..<m {
                total.maxAbsDelta[i] = max(total.maxAbsDelta[i], s.maxAbsDelta[i])
                total.nonZeroDeltas[i] += s.nonZeroDeltas[i]
            }
        }
        for i in 0..<k { for j in 0..<i { total.gram[i][j] = total.gram[j][i] } }
        return total
    }
}
