import Foundation

/// One model's block weights: a value per UNet block (IN00…OUT11, 25 values) and optionally one
/// for BASE (everything outside the UNet), as supermerger's 26-value list "BASE,IN00,…,OUT11".
public struct BlockWeightList: Sendable, Equatable {
    /// BASE; nil for a 25-value list (tensors outside the UNet then keep the global weight).
    public var base: Double?
    /// IN00…IN11, M00, OUT00…OUT11.
    public var blocks: [Double]

    public init(base: Double?, blocks: [Double]) {
        precondition(blocks.count == 25)
        self.base = base
        self.blocks = blocks
    }

    /// A preset name (GRAD_V, FLAT_25, …; case-insensitive) or 25/26 comma-separated numbers.
    public static func parse(_ text: String, source: String) throws -> BlockWeightList {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let preset = BlockWeightPresets.named(trimmed) {
            return BlockWeightList(base: preset[0], blocks: Array(preset.dropFirst()))
        }
        let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Double] = []
        for p in parts {
            guard let v = Double(p) else {
                let hint = parts.count == 1 ? " (not a preset either; presets: \(presetNames.joined(separator: ", ")))" : ""
                throw EngineError.badParameter(source: source, reason: "'\(p)' is not a number\(hint)")
            }
            guard v.isFinite else { throw EngineError.badParameter(source: source, reason: "\(p) is not a finite number") }
            values.append(v)
        }
        switch values.count {
        case 25: return BlockWeightList(base: nil, blocks: values)
        case 26: return BlockWeightList(base: values[0], blocks: Array(values.dropFirst()))
        default:
            throw EngineError.badParameter(source: source, reason: "\(values.count) values; block weights take 25 (IN00–IN11, M00, OUT00–OUT11) or 26 (BASE first), or a preset name")
        }
    }

    public static var presetNames: [String] { BlockWeightPresets.all.map(\.name) }

    /// The value of block `index` in `SDBlocks.names` (0 = BASE).
    public func value(at index: Int) -> Double? { index == 0 ? base : blocks[index - 1] }
}

/// Block weights → per-tensor parameter rules: the entry point both `merge --block-weights` and a
/// per-block search use. Each block becomes a rule `block:IN04` setting the method's weight
/// parameter for the tensors of that block, appended after the user's rules (so, as supermerger's
/// elemental merge, an explicit rule still overrides its block's weight).
public enum BlockWeights {
    /// The parameter block weights set: `weight` (per model) where the method has one, else `t`.
    public static func parameter(of method: any MergeMethod) throws -> MethodParameter {
        if let p = method.parameters.first(where: { $0.name == "weight" }) { return p }
        if let p = method.parameters.first(where: { $0.name == "t" }) { return p }
        throw EngineError.badParameter(source: "--block-weights", reason: "merge method \(method.name) has no weight or t parameter to set per block")
    }

    /// The rules for `lists` (one list for every model, or one per model in input order).
    public static func rules(_ lists: [BlockWeightList], parameter: String, modelCount: Int) throws -> [TensorRule] {
        guard lists.count == 1 || lists.count == modelCount else {
            throw EngineError.badParameter(source: "--block-weights", reason: "\(lists.count) lists for \(modelCount) models; give one list for all models or one per model")
        }
        guard Set(lists.map { $0.base == nil }).count == 1 else {
            throw EngineError.badParameter(source: "--block-weights", reason: "mixed 25- and 26-value lists; give every model a BASE value or none")
        }
        return SDBlocks.names.indices.compactMap { index in
            let perModel = lists.compactMap { $0.value(at: index) }
            guard !perModel.isEmpty else { return nil }
            let value: ParameterValue = lists.count == 1 ? .scalar(perModel[0]) : .perModel(perModel)
            return TensorRule(pattern: .block(SDBlocks.names[index]), values: [parameter: value],
                              label: "block \(SDBlocks.names[index]) (--block-weights)")
        }
    }

    /// Adds the block rules for `lists` to `parameters`, after checking that the checkpoint at
    /// `path` with `tensorNames` is an SD 1.x UNet.
    public static func apply(_ lists: [BlockWeightList], to parameters: inout MergeParameters, method: any MergeMethod,
                             modelCount: Int, tensorNames: [String], path: String) throws {
        let p = try parameter(of: method)
        try SDBlocks.requireSD1UNet(tensorNames, path: path)
        parameters.rules += try rules(lists, parameter: p.name, modelCount: modelCount)
    }
}
