/// Linear merge / model soup (Wortsman et al.): Σ_i w_i theta_i / Σ_i w_i over the models
/// (the base is not part of the soup; it supplies integer tensors, key order and dtypes).
/// `normalize: 0` drops the division (then it is Σ_i w_i theta_i).
/// Computed as theta + Σ_i (w_i / Σw) tau_i, which is the same sum with less cancellation.
struct LinearSoup: MergeMethod {
    let name = "linear"
    let summary = "model soup: sum_i w_i theta_i / sum_i w_i (weights default 1 = uniform soup)"
    let parameters: [MethodParameter] = [.weight, Self.normalize]
    static let normalize = MethodParameter.normalize(default: true, doc: "divide by sum_i w_i (0: plain weighted sum)")

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ t: TensorContext) throws -> TensorPlan {
        let w = try t.perModel(.weight)
        let total = w.reduce(0, +)
        if try !t.flag(Self.normalize) {
            return .linear(baseScale: total, coefficients: w)
        }
        guard total != 0 else {
            throw EngineError.badParameter(source: "tensor '\(t.name)'", reason: "linear merge weights sum to 0, cannot normalise")
        }
        return .linear(baseScale: 1, coefficients: w.map { $0 / total })
    }
}
