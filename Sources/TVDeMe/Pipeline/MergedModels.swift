import TVEngine
import TVTrainer

/// Task arithmetic over trainer models: theta + sum_i w_i (theta_i - theta) on the flat parameter
/// vectors (every parameter of the MLP is floating point; the layout, i.e. config, must match).
/// Candidates are merged straight into per-worker model instances, so a weight search writes no
/// file and allocates no model per candidate.
///
/// With `groups` the coordinates are per-block weights (model-major, `BlockGroups`): each
/// parameter tensor of the layout takes its group's weights, so the flat vector is merged in
/// stretches (`TaskArithmetic.Piece`), adjacent tensors of one group as one stretch.
public final class MergedModels: @unchecked Sendable {
    public let base: any TrainableDenoiser
    public let arithmetic: TaskArithmetic
    public let groups: BlockGroups?
    /// With groups: the flat vector's stretches and the group of each.
    private let segments: [(elements: Range<Int>, group: Int)]
    /// One scratch model and merge buffer per worker; worker w only ever touches index w.
    private var scratch: [(model: any TrainableDenoiser, buffer: ParameterSet)] = []

    public init(base: any TrainableDenoiser, finetuned: [any TrainableDenoiser], names: [String], groups: BlockGroups? = nil) throws {
        for (m, name) in zip(finetuned, names) where m.config != base.config {
            throw DeMeError.mismatchedModels(path: name, reason: "model config differs from the base (projections \(m.config.projections) vs \(base.config.projections), width \(m.config.hiddenWidth) vs \(base.config.hiddenWidth)); task vectors need the same layout")
        }
        self.base = base
        self.groups = groups
        arithmetic = try TaskArithmetic(base: Self.flat(base), finetuned: finetuned.map(Self.flat), paths: names)
        var segs: [(elements: Range<Int>, group: Int)] = []
        if let groups {
            for e in base.layout.entries {
                guard let g = groups.group(of: e.name) else {
                    throw DeMeError.invalidArgument("parameter '\(e.name)' is in no layer group of scheme \(groups.scheme)")
                }
                let r = e.offset..<(e.offset + e.count)
                if let last = segs.last, last.group == g, last.elements.upperBound == r.lowerBound {
                    segs[segs.count - 1].elements = last.elements.lowerBound..<r.upperBound
                } else {
                    segs.append((r, g))
                }
            }
        }
        segments = segs
    }

    /// The layer groups of `base`'s parameters under `scheme` (`BlockGroups` schemes; `mlp` for
    /// the trainer's MLP).
    public static func groups(_ scheme: String, of base: any TrainableDenoiser) throws -> BlockGroups {
        try BlockGroups.make(scheme, tensorNames: base.layout.entries.map(\.name), path: "the pretrained model")
    }

    static func flat(_ m: any TrainableDenoiser) -> ParameterSet {
        // One tensor holding the whole flat vector: the layout is identical for all models (checked above).
        ParameterSet(flat: m.parameters.array)
    }

    public var modelCount: Int { arithmetic.taskVectors.count }

    /// How many coordinates a point has: one weight per model, or per model and group.
    public var dimensions: Int { modelCount * (groups?.count ?? 1) }

    /// The merge pieces for `coordinates` (per-model weights, or per-block with groups).
    func pieces(_ coordinates: [Double]) throws -> [TaskArithmetic.Piece] {
        guard let groups else {
            return [TaskArithmetic.Piece(tensor: 0, elements: 0..<base.parameterCount, weights: coordinates)]
        }
        guard coordinates.count == dimensions else {
            throw DeMeError.invalidArgument("\(coordinates.count) per-block weights for \(modelCount) models × \(groups.count) groups")
        }
        return segments.map { TaskArithmetic.Piece(tensor: 0, elements: $0.elements, weights: groups.weights(of: $0.group, in: coordinates, modelCount: modelCount)) }
    }

    /// A new model with the merged weights.
    public func model(weights: [Double]) throws -> any TrainableDenoiser {
        var p = arithmetic.base
        try arithmetic.merge(pieces: pieces(weights), into: &p)
        return base.with(parameters: p.values[0])
    }

    /// Prepares `workers` scratch models (call before `withWorkerModel` from several threads).
    public func prepareWorkers(_ workers: Int) {
        while scratch.count < workers { scratch.append((base.copy(), Self.flat(base))) }
    }

    /// Merges `weights` into worker `w`'s scratch model and hands it to `body`.
    public func withWorkerModel<R>(_ w: Int, weights: [Double], _ body: (any TrainableDenoiser) throws -> R) throws -> R {
        precondition(w < scratch.count, "prepareWorkers was not called")
        try arithmetic.merge(pieces: pieces(weights), into: &scratch[w].buffer)
        scratch[w].model.parameters.assign(scratch[w].buffer.values[0])
        return try body(scratch[w].model)
    }
}
