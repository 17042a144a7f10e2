import Foundation

/// Multi-model SLERP (mergekit `multislerp`, barycentric interpolation on the hypersphere), on the
/// task vectors (tvtool always has a base: mergekit's form with `base_model`), per tensor:
///   w ← w / Σw (`normalize_weights`, default 1); u_i = tau_i / (|tau_i| + eps)
///   m = Σ w_i u_i, mean direction m̂ = m / |m|; tangent vectors t_i = u_i - (u_i·m̂) m̂
///   T = Σ w_i t_i; r = m̂ cos|T|' + T sin|T|' / |T|'  with |T|' = |T| + eps
///   theta + (Σ w_i |tau_i|) r
/// One model: that model. When |m| < eps (all task vectors zero, or weights that cancel
/// antipodal ones), tvtool falls back to the weighted sum Σ w_i tau_i for any number of models;
/// mergekit does so for two models and raises an error for more.
struct MultiSlerp: MergeMethod {
    let name = "multislerp"
    let summary = "multi-model SLERP: weighted barycentre of the task vectors on the hypersphere, scaled by the mean norm"
    let parameters: [MethodParameter] = [.weight, Self.normalizeWeights, Self.eps]
    static let normalizeWeights = MethodParameter("normalize_weights", .flag, default: 1, doc: "divide the weights by their sum")
    static let eps = MethodParameter("eps", .number, default: 1e-8, range: ValueRange(lower: 0, lowerInclusive: false, upper: nil),
                                     doc: "numerical floor of norms")

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        var w = try c.perModel(.weight)
        let eps = try c.scalar(Self.eps)
        let m = c.modelCount
        if m == 1 { return .linear(baseScale: 1, coefficients: [1]) }
        if try c.flag(Self.normalizeWeights) {
            let total = w.reduce(0, +)
            guard total != 0 else {
                throw EngineError.badParameter(source: "tensor '\(c.name)'", reason: "multislerp weights sum to 0, cannot normalise")
            }
            w = w.map { $0 / total }
        }
        let d = DenseTensor(c)
        let n = d.count
        let norms = (0..<m).map { DenseMath.norm(d.deltas[$0], count: n) }
        var mean = [Double](repeating: 0, count: n)
        for i in 0..<m {
            let k = w[i] / (norms[i] + eps)
            for j in 0..<n { mean[j] += k * d.deltas[i][j] }
        }
        let meanNorm = DenseMath.norm(mean)
        if meanNorm < eps { return .linear(baseScale: 1, coefficients: w) }
        for j in 0..<n { mean[j] /= meanNorm }
        // T = Σ w_i (u_i - (u_i·m̂) m̂) = Σ (w_i/(|tau_i|+eps)) tau_i - (Σ w_i u_i·m̂) m̂
        var tangent = [Double](repeating: 0, count: n)
        var along = 0.0
        for i in 0..<m {
            let k = w[i] / (norms[i] + eps)
            along += k * mean.withUnsafeBufferPointer { DenseMath.dot($0.baseAddress!, d.deltas[i], count: n) }
            for j in 0..<n { tangent[j] += k * d.deltas[i][j] }
        }
        for j in 0..<n { tangent[j] -= along * mean[j] }
        let tangentNorm = DenseMath.norm(tangent) + eps
        let scale = zip(norms, w).reduce(0) { $0 + $1.0 * $1.1 }
        let a = scale * cos(tangentNorm), b = scale * sin(tangentNorm) / tangentNorm
        var out = Array(UnsafeBufferPointer(start: d.base, count: n))
        for j in 0..<n { out[j] += a * mean[j] + b * tangent[j] }
        return .precomputed(out)
    }
}
