import TVStorage

/// The inputs of one output tensor: the base tensor and, per model, its tensor (a finetuned
/// checkpoint's or a task vector's), or nil when that model lacks the tensor under `--keys union`
/// (its task vector is then zero there).
public struct TensorOperands: Sendable {
    public let name: String
    public let base: Tensor
    public let models: [Tensor?]
    /// Per model: true when it is a task vector (used as it is), false when it is a finetuned
    /// checkpoint (the base is subtracted to get its task vector).
    public let modelIsTaskVector: [Bool]
    /// The operands' bytes read into memory once, when a method passes over them several times.
    public let resident = ResidentSlot()

    public init(name: String, base: Tensor, models: [Tensor?], modelIsTaskVector: [Bool]) {
        precondition(models.count == modelIsTaskVector.count)
        self.name = name
        self.base = base
        self.models = models
        self.modelIsTaskVector = modelIsTaskVector
    }

    public var elementCount: Int { base.elementCount }

    /// Drops the mapped pages of every operand (streaming passes call this once a tensor is done).
    public func releasePages() {
        resident.copy = nil
        base.storage.releasePages()
        for m in models { m?.storage.releasePages() }
    }
}

/// One chunk of a tensor, decoded into per-worker scratch: the base values, each model's task
/// vector (tau_i = theta_i - theta, or the stored task vector), and an output chunk.
/// Pointers are valid only inside the callback that receives the chunk.
public struct DecodedChunk<T: ComputeScalar> {
    /// Element index of the chunk's first value within the tensor.
    public let offset: Int
    public let count: Int
    public let base: UnsafeMutablePointer<T>
    public let deltas: [UnsafeMutablePointer<T>]
    public let out: UnsafeMutablePointer<T>
}
