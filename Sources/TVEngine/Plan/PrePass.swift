import TVStorage

/// A streaming pass over every computed tensor before the merge proper (global TIES trim).
/// Each tensor's pages are released after it is visited, as in the main pass.
public struct PrePass {
    let inputs: MergeInputs
    let entries: [AlignedTensor]
    public let parameters: MergeParameters
    let makeContext: (TensorOperands) -> TensorContext
    public let workers: Int
    let cancellation: Cancellation?

    /// Total elements over the computed tensors (per model, as zero task vectors count too).
    public var totalElements: Int {
        entries.filter { $0.source == .compute }.reduce(0) { $0 + $1.output.elementCount }
    }

    /// A per-model parameter without per-tensor rules (a global pass has one value per model).
    public func globalPerModel(_ key: String, default value: Double) throws -> [Double] {
        if parameters.rules.contains(where: { $0.values[key] != nil }) {
            throw EngineError.badParameter(source: "rules", reason: "'\(key)' cannot vary per tensor with a global pass (trim=global)")
        }
        guard let v = parameters.global[key] else { return Array(repeating: value, count: inputs.models.count) }
        return try v.forModels(inputs.models.count, key: key, source: "parameters")
    }

    public func forEachTensor(_ body: (TensorContext) throws -> Void) throws {
        for entry in entries where entry.source == .compute {
            try cancellation?.check()
            let operands = try inputs.operands(for: entry)
            try body(makeContext(operands))
            operands.releasePages()
        }
    }
}
