import TVStorage

/// The opened checkpoints of one merge: the base and the models (finetuned checkpoints or task
/// vectors), with the options every streaming pass shares.
public struct MergeInputs {
    public let base: any CheckpointReader
    public let models: [any CheckpointReader]
    public let modelIsTaskVector: [Bool]

    public init(base: any CheckpointReader, models: [any CheckpointReader], modelsAreTaskVectors: Bool = false) {
        self.base = base
        self.models = models
        self.modelIsTaskVector = Array(repeating: modelsAreTaskVectors, count: models.count)
    }

    public init(base: any CheckpointReader, models: [any CheckpointReader], modelIsTaskVector: [Bool]) {
        precondition(models.count == modelIsTaskVector.count)
        self.base = base
        self.models = models
        self.modelIsTaskVector = modelIsTaskVector
    }

    /// Opens paths with `Checkpoints.open`.
    public static func open(base: String, models: [String], modelsAreTaskVectors: Bool = false) throws -> MergeInputs {
        MergeInputs(base: try Checkpoints.open(base), models: try models.map { try Checkpoints.open($0) },
                    modelsAreTaskVectors: modelsAreTaskVectors)
    }

    public var paths: [String] { [base.path] + models.map(\.path) }

    /// Loads the operands of one aligned tensor (zero-copy views where the format allows).
    func operands(for entry: AlignedTensor) throws -> TensorOperands {
        var tensors: [Tensor?] = []
        for (i, m) in models.enumerated() {
            tensors.append(entry.present[i] ? try m.tensor(named: entry.name) : nil)
        }
        let baseTensor: Tensor
        if let synthetic = entry.syntheticBase, let like = tensors.compactMap({ $0 }).first {
            baseTensor = try SyntheticBase.tensor(synthetic, like: like)
        } else {
            baseTensor = try base.tensor(named: entry.name)
        }
        return TensorOperands(name: entry.name, base: baseTensor, models: tensors, modelIsTaskVector: modelIsTaskVector)
    }
}

/// Options shared by merge, apply, interp and expressions.
public struct MergeOptions: Sendable {
    public var keys: KeyPolicy = .error
    public var mismatch: MismatchPolicy = .error
    /// Tensors the base lacks: error (follow `keys`), identity or zero base.
    public var missingInBase: MissingInBasePolicy = .error
    /// Output dtype for floating tensors; nil keeps each tensor's base dtype.
    public var outDType: DType?
    public var precision: ComputePrecision = .f32
    /// Worker threads (nil: all active cores).
    public var workers: Int?
    /// DARE seed.
    public var seed: UInt64 = 0
    /// Draw a progress line on stderr (only when it is a terminal).
    public var progress: Bool = true
    /// Extra metadata for the output (the recipe is added under `tvtool.recipe`).
    public var metadata: [String: String] = [:]
    /// Checked between tensors; when set, the pass stops and the output is discarded.
    public var cancellation: Cancellation?
    /// Use the vectorised C kernel for linear plans where the CPU supports it (bit-identical to
    /// the portable chunked path; false forces the latter, for cross-checks and benchmarks).
    public var fusedKernels = true

    public init() {}
}
