import Foundation
import TVEngine
import TVStorage

/// The models a sweep evaluates: linear combinations of a base checkpoint, finetuned checkpoints
/// (through their task vectors) and seeded random directions, computed tensor by tensor from the
/// (memory-mapped) inputs so a candidate never has to be held in memory as a whole.
///
/// Arithmetic is TVEngine's `LinearCombination` in Float32 whatever the storage dtype (DeMe's torch
/// order, as `tvtool merge`), rounded once to the base's dtype; tensors without arithmetic
/// (integers, bool) are copied from the base. All inputs must have the same
/// tensor names and shapes (checked up front).
public final class LinearFamily: CandidateWriting {
    public let base: any CheckpointReader
    public let models: [any CheckpointReader]
    public let random: RandomDirections?
    public let mapping: any PointMapping
    /// Workers that compute each tensor (all cores by default).
    let runner = ChunkRunner()

    public init(base: any CheckpointReader, models: [any CheckpointReader], random: RandomDirections? = nil,
                mapping: any PointMapping = TaskWeightMapping()) throws(SweepModelError) {
        self.base = base
        self.models = models
        self.random = random
        self.mapping = mapping
        try LinearFamily.checkCompatible(base: base, models: models)
    }

    /// Output layout: the base's tensors.
    public var tensorInfos: [TensorInfo] { base.tensors }

    /// One tensor of the model at `coordinates`.
    public func tensor(named name: String, at coordinates: [Double]) throws -> Tensor {
        try tensor(named: name, combination: mapping.combination(at: coordinates, tensor: name))
    }

    /// One tensor of the model with combination `c` (owned memory).
    public func tensor(named name: String, combination c: ModelCombination) throws -> Tensor {
        try Self.owned(tensor(named: name, combination: c, workspace: CandidateWorkspace()))
    }

    /// A copy of `t` in its own memory (one memcpy).
    static func owned(_ t: Tensor) throws -> Tensor {
        let storage = t.withUnsafeBytes { src in
            ByteStorage.allocate(count: src.count) { dst in
                if src.count > 0 { dst.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: src.count) }
            }
        }
        return try Tensor(dtype: t.dtype, shape: t.shape, storage: storage)
    }

    /// Computes one tensor into `workspace`; the result views the workspace (or the base's data
    /// for tensors copied unchanged) and is valid until the workspace's next use. The combination
    /// is TVEngine's `LinearCombination` (the code `tvtool merge` runs), random directions added
    /// as extra task vectors, so the sum is rounded once to the base's dtype.
    func tensor(named name: String, combination c: ModelCombination, workspace: CandidateWorkspace) throws -> Tensor {
        let b = try base.tensor(named: name)
        guard b.dtype.supportsArithmetic else { return b }
        let n = b.elementCount
        let useCenter = random.map { $0.count > 0 } ?? false
        let weights = models.indices.map { i in i < c.taskWeights.count ? c.taskWeights[i] : 0 }
        let centerWeights = models.indices.map { i in i < c.centerWeights.count ? c.centerWeights[i] : 0 }
        // Only the models that carry weight are read; the others stand as missing (zero task vectors).
        var operands: [Tensor?] = []
        for (i, m) in models.enumerated() {
            guard weights[i] != 0 || (useCenter && centerWeights[i] != 0) else { operands.append(nil); continue }
            let mt = try m.tensor(named: name)
            guard mt.dtype.supportsArithmetic, mt.elementCount == n else {
                throw SweepModelError.notArithmetic(path: m.path, tensor: name, dtype: mt.dtype)
            }
            operands.append(mt)
        }
        var terms = TensorOperands(name: name, base: b, models: operands, modelIsTaskVector: operands.map { _ in false })
        var coefficients = weights
        if let random, useCenter {
            // theta + sum_i centerWeights[i] tau_i, the reference the directions are normalised against.
            let center = workspace.center(n)
            let centerTerms = LinearCombination(coefficients: centerWeights)
            centerTerms.compute(terms, outputDType: .f32, runner: runner, into: UnsafeMutableRawPointer(center.baseAddress!))
            let reference = Array(center)
            var directions: [Tensor?] = []
            for k in 0..<min(random.count, c.randomCoefficients.count) where c.randomCoefficients[k] != 0 {
                let d = random.direction(k, tensor: name, shape: b.shape, reference: reference)
                directions.append(try Tensor.fromFloats(d, shape: b.shape))
                coefficients.append(c.randomCoefficients[k])
            }
            terms = TensorOperands(name: name, base: b, models: operands + directions,
                                   modelIsTaskVector: operands.map { _ in false } + directions.map { _ in true })
        }
        let out = workspace.output(b.byteCount)
        LinearCombination(coefficients: coefficients).compute(terms, outputDType: b.dtype, runner: runner, into: out)
        return try workspace.view(shape: b.shape, dtype: b.dtype)
    }

    /// The whole model at `coordinates`, in memory (for in-process evaluators).
    public func materialize(at coordinates: [Double]) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        let workspace = CandidateWorkspace()
        for info in tensorInfos {
            let c = mapping.combination(at: coordinates, tensor: info.name)
            let t = try tensor(named: info.name, combination: c, workspace: workspace)
            result[info.name] = try Self.owned(t)
        }
        return result
    }

    /// Streams the model at `coordinates` into a new checkpoint file (format from the extension).
    public func write(at coordinates: [Double], to path: String, metadata: [String: String] = [:]) throws {
        let writer = try Checkpoints.create(path, tensors: tensorInfos, metadata: metadata,
                                            options: CreateOptions(inputs: [base.path] + models.map(\.path)))
        do {
            let workspace = CandidateWorkspace()
            for info in tensorInfos {
                let c = mapping.combination(at: coordinates, tensor: info.name)
                try writer.write(tensor(named: info.name, combination: c, workspace: workspace), named: info.name)
            }
            try writer.finish()
        } catch {
            writer.abort()
            throw error
        }
    }

    public func writeCandidate(at coordinates: [Double], to path: String, metadata: [String: String]) throws {
        try write(at: coordinates, to: path, metadata: metadata)
    }

    static func checkCompatible(base: any CheckpointReader, models: [any CheckpointReader]) throws(SweepModelError) {
        let baseInfos = Dictionary(base.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for m in models {
            let infos = Dictionary(m.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for (name, bi) in baseInfos {
                guard let mi = infos[name] else { throw .missingTensor(path: m.path, tensor: name, base: base.path) }
                guard mi.shape == bi.shape else {
                    throw .shapeMismatch(path: m.path, tensor: name, shape: mi.shape, baseShape: bi.shape)
                }
                if bi.dtype.supportsArithmetic && !mi.dtype.supportsArithmetic {
                    throw .notArithmetic(path: m.path, tensor: name, dtype: mi.dtype)
                }
            }
            if let extra = infos.keys.sorted().first(where: { baseInfos[$0] == nil }) {
                throw .extraTensor(path: m.path, tensor: extra, base: base.path)
            }
        }
    }
}

/// Inputs that cannot be combined.
public enum SweepModelError: BadInputError, Equatable {
    case missingTensor(path: String, tensor: String, base: String)
    case extraTensor(path: String, tensor: String, base: String)
    case shapeMismatch(path: String, tensor: String, shape: [Int], baseShape: [Int])
    case notArithmetic(path: String, tensor: String, dtype: DType)
    case degenerate(String)

    public var description: String {
        switch self {
        case let .missingTensor(p, t, b): return "\(p): no tensor '\(t)' (present in the base \(b))"
        case let .extraTensor(p, t, b): return "\(p): tensor '\(t)' is not in the base \(b)"
        case let .shapeMismatch(p, t, s, bs): return "\(p): tensor '\(t)' has shape \(Shape.describe(s)), the base has \(Shape.describe(bs))"
        case let .notArithmetic(p, t, d): return "\(p): tensor '\(t)' has dtype \(d.rawValue), which tvtool cannot compute on"
        case let .degenerate(why): return why
        }
    }
}
