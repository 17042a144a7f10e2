/// Task arithmetic (Ilharco et al.) = the DeMe merge: theta + lambda · Σ_i w_i tau_i.
/// No normalisation: DeMe's released weights sum to 0.9 on purpose.
struct TaskArithmetic: MergeMethod {
    let name = "task_arithmetic"
    let summary = "theta + lambda * sum_i w_i tau_i, no normalisation (DeMe's merge; the default)"
    let parameters: [MethodParameter] = [.weight, .lambda]

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ t: TensorContext) throws -> TensorPlan {
        let w = try t.perModel(.weight)
        let lambda = try t.scalar(.lambda)
        return .linear(baseScale: 1, coefficients: w.map { $0 * lambda })
    }
}
