/// Model breadcrumbs (Davari & Belilovsky): per tensor and model, drop the largest `gamma`
/// fraction of |tau| (outliers) and the smallest (1 - density - gamma) fraction, no rescale, then
/// task arithmetic: theta + lambda Σ_i w_i tau'_i. Exact ranks: with n entries, the
/// floor(gamma·n) largest go, and of the rest the floor(density·n) largest stay. Entries tied
/// with a threshold value: at the upper one they are dropped, at the lower one kept.
struct Breadcrumbs: MergeMethod {
    let name = "breadcrumbs"
    let summary = "drop the top gamma and bottom (1 - density - gamma) of |tau| per tensor, then task arithmetic"
    let parameters: [MethodParameter] = [.weight, Self.density, Self.gamma, .lambda]
    static let density = MethodParameter.density(default: 0.9, range: .closed(0, 1), doc: "fraction of |tau| kept below the dropped top gamma")
    static let gamma = MethodParameter("gamma", .perModelNumber, default: 0.01, range: .closed(0, 1), doc: "fraction of the largest |tau| dropped (outliers); gamma + density <= 1")

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let density = try c.perModel(Self.density)
        let gamma = try c.perModel(Self.gamma)
        let n = Double(c.elementCount)
        var ranks: [[Int]] = []
        for i in 0..<c.modelCount {
            guard gamma[i] >= 0, density[i] >= 0, gamma[i] + density[i] <= 1 else {
                throw EngineError.badParameter(source: "tensor '\(c.name)'", reason: "breadcrumbs needs gamma ≥ 0, density ≥ 0, gamma + density ≤ 1")
            }
            let high = Int((n * gamma[i]).rounded(.down))
            ranks.append([high, high + Int((n * density[i]).rounded(.down))])
        }
        let thresholds = c.magnitudeThresholds(ranks: ranks)
        let masks: [SparseDeltaCombiner.Mask] = thresholds.enumerated().map { i, t in
            let keepCount = ranks[i][1] - ranks[i][0]
            if keepCount <= 0 { return .magnitude(low: MagnitudeSelector.keepNothing, high: nil) }
            return .magnitude(low: t[1], high: ranks[i][0] > 0 ? t[0] : nil)
        }
        return .elementwise(SparseDeltaCombiner(
            masks: masks, weights: try c.perModel(.weight),
            lambda: try c.scalar(.lambda), consensus: .sum, normalize: false))
    }
}
