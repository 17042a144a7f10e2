/// DeMe's merge (deme.md, "Merge"): theta_merged = theta + sum_i w_i tau_i with tau_i = theta_i - theta,
/// no normalisation of the weights. Task vectors are computed once; each candidate of the weight
/// search is merged into a reusable buffer. The sum is accumulated in Double per element and rounded
/// once, so all-zero weights give back theta bit for bit.
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

    /// Writes theta + sum_i w_i tau_i into `out`, which must have the base's layout (reuse one
    /// buffer per worker across candidates).
    public func merge(weights: [Double], into out: inout ParameterSet) throws(DeMeError) {
        guard weights.count == taskVectors.count else {
            throw .invalidArgument("\(weights.count) weights given for \(taskVectors.count) task vectors")
        }
        guard out.names == base.names else { throw .invalidArgument("merge buffer does not have the base's layout") }
        let active = weights.enumerated().filter { $0.element != 0 }
        for i in 0..<base.count {
            var acc = base.values[i].map { Double($0) }
            for (k, w) in active {
                taskVectors[k].values[i].withUnsafeBufferPointer { t in
                    for j in 0..<t.count { acc[j] += w * Double(t[j]) }
                }
            }
            out.values[i].withUnsafeMutableBufferPointer { o in
                for j in 0..<o.count { o[j] = Float(acc[j]) }
            }
        }
    }
}
