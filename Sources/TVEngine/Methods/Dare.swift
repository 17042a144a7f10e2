/// DARE (Yu et al.): drop each task-vector entry with probability p = 1 - density and rescale the
/// kept ones by exactly 1/(1-p) (the paper's rule; mergekit instead rescales to preserve the L1
/// norm). Masks come from a counter-based generator keyed by (seed, tensor name, model index,
/// element index): the same seed gives the same masks on any machine and thread count.
enum DareMasks {
    static func masks(_ c: TensorContext) throws -> [SparseDeltaCombiner.Mask] {
        let density = try c.perModel("density", default: 1)
        for d in density where !(0...1).contains(d) {
            throw EngineError.badParameter(source: "tensor '\(c.name)'", reason: "DARE density \(d) is outside [0, 1]")
        }
        return density.enumerated().map { i, d in
            .random(key: CounterRandom.streamKey(seed: c.seed, tensor: c.name, model: i), density: d)
        }
    }

    /// The DARE variants differ only in how the kept deltas combine and in `normalize`'s default.
    static func plan(_ c: TensorContext, consensus: SparseDeltaCombiner.Consensus, normalizeByDefault: Bool) throws -> TensorPlan {
        .elementwise(SparseDeltaCombiner(
            masks: try masks(c), weights: try c.perModel("weight", default: 1),
            lambda: try c.scalar("lambda", default: 1), consensus: consensus,
            normalize: try c.scalar("normalize", default: normalizeByDefault ? 1 : 0) != 0))
    }
}

/// DARE + task arithmetic: theta + lambda Σ_i w_i dare(tau_i) (no normalisation unless `normalize`).
struct DareLinear: MergeMethod {
    let name = "dare_linear"
    let summary = "DARE (drop with p = 1 - density, rescale exactly 1/density) then task arithmetic"
    let parameterNames = ["weight", "density", "lambda", "normalize"]

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        try DareMasks.plan(c, consensus: .sum, normalizeByDefault: false)
    }
}

/// DARE + TIES: DARE masks instead of the magnitude trim, then sign election and disjoint mean.
struct DareTies: MergeMethod {
    let name = "dare_ties"
    let summary = "DARE masks then TIES sign election and disjoint mean"
    let parameterNames = ["weight", "density", "lambda", "normalize"]

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        try DareMasks.plan(c, consensus: .signElection, normalizeByDefault: true)
    }
}
