import Foundation

/// Karcher (Riemannian) mean on the unit hypersphere (mergekit `karcher`), of the models' weights
/// theta_i themselves, per tensor (the base is not averaged; it supplies integer tensors, key order
/// and dtypes, as for `linear`):
///   alpha_i = w_i / Σ w (mergekit: 1/N), u_i = theta_i / |theta_i|; only models with |theta_i| > tol
///   take part (their alphas renormalised). Start: m = Σ alpha_i u_i / |…| (u_1 if that norm < tol).
///   Repeat up to max_iter times: T = Σ alpha_i (θ_i / sin θ_i)(u_i - (m·u_i) m), θ_i = acos(m·u_i)
///   (terms with θ_i < tol skipped); stop when |T| < tol; else m ← cos|T| m + sin|T| T/|T|, renormalised.
///   Result (Σ_i alpha_i |theta_i|) · m  (all models, as mergekit). No model above tol: zeros.
struct Karcher: MergeMethod {
    let name = "karcher"
    let summary = "Karcher mean of the models on the hypersphere (iterative; max_iter, tol), scaled by the mean norm"
    let parameters: [MethodParameter] = [.weight, Self.maxIter, Self.tol]
    static let maxIter = MethodParameter("max_iter", .number, default: 10, range: .closed(0, 100_000), doc: "iterations at most (whole number)")
    static let tol = MethodParameter("tol", .number, default: 1e-5, range: ValueRange(lower: 0, lowerInclusive: false, upper: nil),
                                     doc: "stop when the tangent step is shorter")

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let w = try c.perModel(.weight)
        let maxIter = try c.scalar(Self.maxIter)  // ranges checked up front (Merger)
        let tol = try c.scalar(Self.tol)
        guard maxIter == maxIter.rounded() else {
            throw EngineError.badParameter(source: "tensor '\(c.name)'", reason: "karcher max_iter \(maxIter) must be a whole number")
        }
        let total = w.reduce(0, +)
        guard total != 0 else {
            throw EngineError.badParameter(source: "tensor '\(c.name)'", reason: "karcher weights sum to 0, cannot normalise")
        }
        let alphas = w.map { $0 / total }
        let m = c.modelCount
        if m == 1 { return .linear(baseScale: 1, coefficients: [1]) }

        let d = DenseTensor(c)
        let n = d.count
        // theta_i = theta + tau_i, in place.
        for t in d.deltas { for j in 0..<n { t[j] += d.base[j] } }
        let norms = d.deltas.map { DenseMath.norm($0, count: n) }
        let valid = (0..<m).filter { norms[$0] > tol }
        guard !valid.isEmpty else { return .precomputed([Double](repeating: 0, count: n)) }
        let validSum = valid.reduce(0) { $0 + alphas[$1] }
        let a = valid.map { alphas[$0] / validSum }
        for i in valid { let k = 1 / norms[i]; for j in 0..<n { d.deltas[i][j] *= k } }
        let units = valid.map { d.deltas[$0] }

        var mean = [Double](repeating: 0, count: n)
        for (k, u) in units.enumerated() { for j in 0..<n { mean[j] += a[k] * u[j] } }
        let meanNorm = DenseMath.norm(mean)
        if meanNorm < tol {
            mean = Array(UnsafeBufferPointer(start: units[0], count: n))
        } else {
            for j in 0..<n { mean[j] /= meanNorm }
        }
        var tangent = [Double](repeating: 0, count: n)
        for _ in 0..<Int(maxIter) {
            for j in 0..<n { tangent[j] = 0 }
            for (k, u) in units.enumerated() {
                let dot = min(1, max(-1, mean.withUnsafeBufferPointer { DenseMath.dot($0.baseAddress!, u, count: n) }))
                let theta = acos(dot)
                if theta < tol { continue }
                let f = a[k] * theta / sin(theta)
                for j in 0..<n { tangent[j] += f * (u[j] - dot * mean[j]) }
            }
            let tn = DenseMath.norm(tangent)
            if tn < tol { break }
            let (cs, sn) = (cos(tn), sin(tn) / tn)
            for j in 0..<n { mean[j] = cs * mean[j] + sn * tangent[j] }
            let un = DenseMath.norm(mean)
            if un > tol { for j in 0..<n { mean[j] /= un } }
        }
        let scale = zip(alphas, norms).reduce(0) { $0 + $1.0 * $1.1 }
        return .precomputed(mean.map { $0 * scale })
    }
}
