import TVTrainer

/// DeMe's "before merge" comparison point (deme.md): N models, model i used only for t in R_i.
/// Same per-step cost as one model, N times the storage. A `Denoiser`, so samplers and the
/// evaluator take it wherever they take a model. Not thread-safe (its members keep scratch buffers).
public final class EnsembleDenoiser: Denoiser {
    public let members: [any Denoiser]
    public let ranges: [TimestepRange]
    public var dataDimension: Int { members[0].dataDimension }
    public var evaluationBatchSize: Int { members.map(\.evaluationBatchSize).min() ?? 512 }

    public init(members: [any Denoiser], ranges: [TimestepRange]) throws(DeMeError) {
        guard members.count == ranges.count, !members.isEmpty else {
            throw .invalidArgument("an ensemble needs one model per range (\(members.count) models, \(ranges.count) ranges)")
        }
        guard Set(members.map(\.dataDimension)).count == 1 else { throw .invalidArgument("ensemble members disagree on the data size") }
        self.members = members
        self.ranges = ranges
    }

    /// The member for timestep t; a t outside every range goes to the nearest end range.
    public func member(for t: Int) -> Int {
        if let i = ranges.firstIndex(where: { $0.contains(t) }) { return i }
        return t < ranges[0].lower ? 0 : ranges.count - 1
    }

    /// Rows are gathered per member, predicted in one batch each, and scattered back in order.
    public func predictEpsilon(x: [Float], t: [Int]) -> [Float] {
        guard !t.isEmpty else { return [] }
        let dim = dataDimension
        var rows = [[Int]](repeating: [], count: members.count)
        for (k, tk) in t.enumerated() { rows[member(for: tk)].append(k) }
        if let only = rows.firstIndex(where: { $0.count == t.count }) { return members[only].predictEpsilon(x: x, t: t) }
        var out = [Float](repeating: 0, count: x.count)
        for (r, idx) in rows.enumerated() where !idx.isEmpty {
            var xs = [Float](repeating: 0, count: idx.count * dim)
            for (j, k) in idx.enumerated() {
                for d in 0..<dim { xs[j * dim + d] = x[k * dim + d] }
            }
            let eps = members[r].predictEpsilon(x: xs, t: idx.map { t[$0] })
            for (j, k) in idx.enumerated() {
                for d in 0..<dim { out[k * dim + d] = eps[j * dim + d] }
            }
        }
        return out
    }
}
