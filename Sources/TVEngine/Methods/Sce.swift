/// SCE (FuseChat 2, Wan et al., arXiv 2408.07990, "select, calculate, erase"), per tensor:
///   select     var_j = population variance over models of tau_ij; with select_topk < 1 keep the
///              k = floor(select_topk · #{j : var_j ≠ 0}) entries of largest variance (entries
///              tied with the k-th are kept) in every task vector, zero the rest
///   calculate  w_i = mean_j tau'_ij² / Σ_l mean_j tau'_lj²  (all zero: w_i = 1/N)
///   erase      s_j = sign(Σ_i tau'_ij) (0 → +1, as mergekit); keep tau'_ij only where its
///              sign equals s_j
///   merge      theta + lambda · Σ_i w_i tau'_ij m_ij / Σ_i w_i m_ij   (no agreeing entry: 0)
/// Deviations from mergekit's `sce`: mergekit falls back to uniform weights when Σ mean tau² <
/// 1e-6 — an absolute threshold that diffusion task vectors (|tau| ~ 1e-4) always meet — and clamps
/// the divisor at 1e-6; tvtool uses exact zero tests for both. `lambda` (default 1) is tvtool's.
struct Sce: MergeMethod {
    let name = "sce"
    let summary = "SCE: select top-variance entries (select_topk), weight models by mean tau^2, erase minority signs"
    let parameters: [MethodParameter] = [Self.selectTopK, .lambda]
    static let selectTopK = MethodParameter("select_topk", .number, default: 1, range: .closed(0, 1),
                                            doc: "fraction of entries (by variance across models) kept")

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let topk = try c.scalar(Self.selectTopK)  // range checked up front (Merger)
        let lambda = try c.scalar(.lambda)
        let d = DenseTensor(c)
        let n = d.count, m = d.modelCount
        if topk < 1 { select(d, fraction: topk) }

        var weights = (0..<m).map { i in DenseMath.dot(d.deltas[i], d.deltas[i], count: n) / Double(max(n, 1)) }
        let total = weights.reduce(0, +)
        weights = total > 0 ? weights.map { $0 / total } : Array(repeating: 1 / Double(m), count: m)

        var out = [Double](repeating: 0, count: n)
        for j in 0..<n {
            var s = 0.0
            for i in 0..<m { s += d.deltas[i][j] }
            let majority: Double = s >= 0 ? 1 : -1
            var num = 0.0, den = 0.0
            for i in 0..<m {
                let x = d.deltas[i][j]
                let sign: Double = x > 0 ? 1 : (x < 0 ? -1 : 0)
                if sign == majority { num += weights[i] * x; den += weights[i] }
            }
            out[j] = d.base[j] + lambda * (den != 0 ? num / den : 0)
        }
        return .precomputed(out)
    }

    /// Zeroes, in every task vector, the entries outside the top-k by variance across models.
    private func select(_ d: DenseTensor, fraction: Double) {
        let n = d.count, m = Double(d.modelCount)
        var variance = [Double](repeating: 0, count: n)
        for j in 0..<n {
            var mean = 0.0
            for t in d.deltas { mean += t[j] }
            mean /= m
            var v = 0.0
            for t in d.deltas { v += (t[j] - mean) * (t[j] - mean) }
            variance[j] = v / m
        }
        let nonZero = variance.filter { $0 != 0 }
        let k = Int((Double(nonZero.count) * fraction).rounded(.down))
        let threshold = k > 0 ? nonZero.sorted(by: >)[k - 1] : Double.infinity
        for j in 0..<n where !(variance[j] >= threshold && variance[j] != 0) {
            for t in d.deltas { t[j] = 0 }
        }
    }
}
