/// DARE (Yu et al.): drop each task-vector entry with probability p = 1 - density and rescale the
/// kept ones by exactly 1/(1-p) (the paper's rule; mergekit instead rescales to preserve the L1
/// norm). Masks come from a counter-based generator keyed by (seed, tensor name, model index,
/// element index): the same seed gives the same masks on any machine and thread count.
enum DareMasks {
    static func masks(_ c: TensorContext) throws -> [SparseDeltaCombiner.Mask] {
        // The range [0, 1] is checked up front from the definition (Merger).
        let density = try c.perModel(DareMasks.density)
        return density.enumerated().map { i, d in
            .random(key: CounterRandom.streamKey(seed: c.seed, tensor: c.name, model: i), density: d)
        }
    }

    static let density = MethodParameter.density(default: 1, range: .closed(0, 1), doc: "keep probability 1 - p; kept entries are rescaled by 1/density")

    /// The DARE variants differ only in how the kept deltas combine and in `normalize`'s default.
    static func plan(_ c: TensorContext, consensus: SparseDeltaCombiner.Consensus, normalize: MethodParameter) throws -> TensorPlan {
        .elementwise(SparseDeltaCombiner(
            masks: try masks(c), weights: try c.perModel(.weight),
            lambda: try c.scalar(.lambda), consensus: consensus,
            normalize: try c.flag(normalize)))
    }
}

/// DARE + task arithmetic: theta + lambda Σ_i w_i dare(tau_i) (no normalisation unless `normalize`).
struct DareLinear: MergeMethod {
    let name = "dare_linear"
    let summary = "DARE (drop with p = 1 - density, rescale exactly 1/density) then task arithmetic"
    let parameters: [MethodParameter] = [.weight, DareMasks.density, .lambda, Self.normalize]
    static let normalize = MethodParameter.normalize(default: false, doc: "divide the sum by sum_i w_i")

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        try DareMasks.plan(c, consensus: .sum, normalize: Self.normalize)
    }
}

/// DARE + TIES: DARE masks instead of the magnitude trim, then sign election and disjoint mean.
struct DareTies: MergeMethod {
    let name = "dare_ties"
    let summary = "DARE masks then TIES sign election and disjoint mean"
    let parameters: [MethodParameter] = [.weight, DareMasks.density, .lambda, Self.normalize]
    static let normalize = MethodParameter.normalize(default: true, doc: "disjoint mean (0: plain sum of the agreeing entries)")

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        try DareMasks.plan(c, consensus: .signElection, normalize: Self.normalize)
    }
}
