/// Linear interpolation between the base and one model: theta + t (theta_1 - theta).
struct Lerp: MergeMethod {
    let name = "lerp"
    let summary = "base + t * (model - base) for exactly one model (t default 0.5)"
    let parameters: [MethodParameter] = [.t]

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1, exactly: true) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        .linear(baseScale: 1, coefficients: [try c.scalar(.t)])
    }
}
