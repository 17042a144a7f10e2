import TVTrainer

/// Task arithmetic over trainer models: theta + sum_i w_i (theta_i - theta) on the flat parameter
/// vectors (every parameter of the MLP is floating point; the layout, i.e. config, must match).
/// Candidates are merged straight into per-worker model instances, so a weight search writes no
/// file and allocates no model per candidate.
public final class MergedModels: @unchecked Sendable {
    public let base: any TrainableDenoiser
    public let arithmetic: TaskArithmetic
    /// One scratch model and merge buffer per worker; worker w only ever touches index w.
    private var scratch: [(model: any TrainableDenoiser, buffer: ParameterSet)] = []

    public init(base: any TrainableDenoiser, finetuned: [any TrainableDenoiser], names: [String]) throws {
        for (m, name) in zip(finetuned, names) where m.config != base.config {
            throw DeMeError.mismatchedModels(path: name, reason: "model config differs from the base (projections \(m.config.projections) vs \(base.config.projections), width \(m.config.hiddenWidth) vs \(base.config.hiddenWidth)); task vectors need the same layout")
        }
        self.base = base
        arithmetic = try TaskArithmetic(base: Self.flat(base), finetuned: finetuned.map(Self.flat), paths: names)
    }

    static func flat(_ m: any TrainableDenoiser) -> ParameterSet {
        // One tensor holding the whole flat vector: the layout is identical for all models (checked above).
        ParameterSet(flat: m.parameters.array)
    }

    /// A new model with the merged weights.
    public func model(weights: [Double]) throws -> any TrainableDenoiser {
        let p = try arithmetic.merged(weights: weights)
        return base.with(parameters: p.values[0])
    }

    /// Prepares `workers` scratch models (call before `withWorkerModel` from several threads).
    public func prepareWorkers(_ workers: Int) {
        while scratch.count < workers { scratch.append((base.copy(), Self.flat(base))) }
    }

    /// Merges `weights` into worker `w`'s scratch model and hands it to `body`.
    public func withWorkerModel<R>(_ w: Int, weights: [Double], _ body: (any TrainableDenoiser) throws -> R) throws -> R {
        precondition(w < scratch.count, "prepareWorkers was not called")
        try arithmetic.merge(weights: weights, into: &scratch[w].buffer)
        scratch[w].model.parameters.assign(scratch[w].buffer.values[0])
        return try body(scratch[w].model)
    }
}
