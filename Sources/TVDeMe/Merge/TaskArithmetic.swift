import TVEngine

/// DeMe's merge (deme.md, "Merge"): theta_merged = theta + sum_i w_i tau_i with tau_i = theta_i - theta,
/// no normalisation of the weights. Task vectors are computed once (in F32, as torch does); each
/// candidate of the weight search is merged into a reusable buffer by TVEngine's
/// `LinearCombination`, the same code and arithmetic as `tvtool merge`, so the file the pipeline
/// writes is bit for bit the candidate the search evaluated. All-zero weights give back theta.
public struct TaskArithmetic: Sendable {
    public let base: ParameterSet
    public let taskVectors: [ParameterSet]

    /// `finetuned[i]` must have the base's layout (same names, order and shapes).
    public init(base: ParameterSet, finetuned: [ParameterSet], paths: [String]? = nil) throws(DeMeError) {
        var taus: [ParameterSet] = []
        for (k, ft) in finetuned.enumerated() {
            try base.requireSameLayout(as: ft, path: paths?[k] ?? "model \(k + 1)")
            var tau = ft
            for i in 0..<tau.count {
                let b = base.values[i]
                tau.values[i].withUnsafeMutableBufferPointer { t in
                    for j in 0..<t.count { t[j] -= b[j] }
                }
            }
            taus.append(tau)
        }
        self.base = base
        self.taskVectors = taus
    }

    /// theta + sum_i w_i tau_i as a new parameter set.
    public func merged(weights: [Double]) throws(DeMeError) -> ParameterSet {
        var out = base
        try merge(weights: weights, into: &out)
        return out
    }

    /// A stretch of one tensor's elements merged with its own weights (per-block merges).
    public struct Piece: Sendable, Equatable {
        public var tensor: Int
        public var elements: Range<Int>
        public var weights: [Double]
        public init(tensor: Int, elements: Range<Int>, weights: [Double]) {
            self.tensor = tensor
            self.elements = elements
            self.weights = weights
        }
    }

    /// Writes theta + sum_i w_i tau_i into `out`, which must have the base's layout (reuse one
    /// buffer per worker across candidates).
    public func merge(weights: [Double], into out: inout ParameterSet) throws(DeMeError) {
        try merge(pieces: (0..<base.count).map { Piece(tensor: $0, elements: 0..<base.values[$0].count, weights: weights) }, into: &out)
    }

    /// Writes theta + sum_i w_i tau_i piece by piece, each piece with its own weights (one
    /// `LinearCombination` per piece); elements in no piece are left as they are in `out`.
    public func merge(pieces: [Piece], into out: inout ParameterSet) throws(DeMeError) {
        guard out.names == base.names else { throw .invalidArgument("merge buffer does not have the base's layout") }
        for p in pieces {
            guard p.weights.count == taskVectors.count else {
                throw .invalidArgument("\(p.weights.count) weights given for \(taskVectors.count) task vectors")
            }
            guard p.tensor < base.count, p.elements.lowerBound >= 0, p.elements.upperBound <= base.values[p.tensor].count else {
                throw .invalidArgument("merge piece outside tensor \(p.tensor)")
            }
        }
        for p in pieces where !p.elements.isEmpty {
            let i = p.tensor, r = p.elements
            let combination = LinearCombination(coefficients: p.weights)
            let taus = taskVectors.map { $0.values[i] }
            base.values[i].withUnsafeBufferPointer { b in
                withBuffers(taus) { t in
                    out.values[i].withUnsafeMutableBufferPointer { o in
                        combination.compute(base: UnsafeBufferPointer(rebasing: b[r]), models: t.map { UnsafeBufferPointer(rebasing: $0[r]) },
                                            modelsAreTaskVectors: true, into: UnsafeMutableBufferPointer(rebasing: o[r]))
                    }
                }
            }
        }
    }
}

/// Calls `body` with read-only views of every array (valid only inside the call).
private func withBuffers<R>(_ arrays: [[Float]], _ body: ([UnsafeBufferPointer<Float>]) -> R) -> R {
    var views: [UnsafeBufferPointer<Float>] = []
    func nest(_ k: Int) -> R {
        guard k < arrays.count else { return body(views) }
        return arrays[k].withUnsafeBufferPointer { views.append($0); return nest(k + 1) }
    }
    return nest(0)
}
