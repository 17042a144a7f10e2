/// Model Stock (Jang et al.): per tensor, cos = mean pairwise cosine of the tau_i,
/// t = N cos / (1 + (N-1) cos), result t · mean_i theta_i + (1 - t) theta = theta + (t/N) Σ tau_i.
/// Pairs involving a zero task vector are left out of the mean; with no pair left (or a zero
/// denominator), t = 0 and the tensor keeps the base. Needs ≥ 2 models (mergekit asks for 3).
struct ModelStock: MergeMethod {
    let name = "model_stock"
    let summary = "theta + t * mean_i tau_i with t = N cos / (1 + (N-1) cos) from the task vectors' mean cosine (>= 2 models)"
    let parameters: [MethodParameter] = []

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 2) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let n = c.modelCount
        let t = Self.interpolation(c.statistics(), models: n)
        return .linear(baseScale: 1, coefficients: Array(repeating: t / Double(n), count: n))
    }

    static func interpolation(_ s: TensorStatistics, models n: Int) -> Double {
        var sum = 0.0, pairs = 0
        for i in 0..<n { for j in (i + 1)..<n { if let c = s.cosine(i, j) { sum += c; pairs += 1 } } }
        guard pairs > 0 else { return 0 }
        let cosine = sum / Double(pairs)
        let denominator = 1 + Double(n - 1) * cosine
        guard abs(denominator) > 1e-12 else { return 0 }
        return Double(n) * cosine / denominator
    }
}
