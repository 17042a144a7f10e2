import Foundation

/// A partition of a model's tensors into named layer groups, so a merge (or a search) can give
/// each model one weight per group instead of one per model: `search --per-block` and
/// `deme --merge-granularity block`. Each group is a list of name patterns; a tensor belongs to the
/// first group with a matching pattern, which is exactly how the engine resolves the rules
/// `rules(_:modelCount:parameter:)` generates, so an in-memory candidate and the file merged
/// from those rules get the same weight for every tensor.
///
/// Schemes (docs/block-weights.md, "Blocks as search dimensions"):
/// - `mbw`: the SD 1.x UNet's 25 MBW blocks (IN00…IN11, M00, OUT00…OUT11) plus BASE when the
///   checkpoint has tensors outside the UNet;
/// - `in-mid-out`: the same UNet in three groups IN (IN00–IN11), MID (M00), OUT (OUT00–OUT11), plus
///   BASE (a coarse preset that keeps the number of dimensions affordable);
/// - `mlp`: tvtool's trainer MLP: IN (time embedding and input layer), B0…B{n-1} (one per residual
///   block, its projection included), OUT (output layer);
/// - `unet`: a diffusers UNet (UNet2DModel, as DDPM and tvtool's trainer use it): IN (conv_in and
///   the time embedding), D0…D{n-1} (one per down block), MID, U0…U{n-1} (one per up block), OUT
///   (conv_norm_out, conv_out); DeMe's channel projections sit inside their block's group;
/// - `top`: one group per first component of the tensor names (any checkpoint);
/// - `auto`: `in-mid-out` for an SD 1.x UNet, `mlp` for the trainer's MLP, `unet` for another
///   diffusers UNet, else `top`.
public struct BlockGroups: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public var name: String
        public var patterns: [NamePattern]
    }

    public let scheme: String
    public let groups: [Group]
    /// Group of each tensor name the groups were made for (the patterns decide for other names).
    private let known: [String: Int]

    public static let schemes = ["auto", "mbw", "in-mid-out", "mlp", "unet", "top"]

    public var count: Int { groups.count }
    public var names: [String] { groups.map(\.name) }

    /// The groups of `scheme` for a checkpoint with `tensorNames` (its arithmetic tensors), read
    /// from `path`. Groups without tensors are dropped; every tensor must fall in a group.
    public static func make(_ scheme: String, tensorNames: [String], path: String) throws -> BlockGroups {
        let s = scheme.lowercased()
        var candidates: [Group]
        switch s {
        case "auto":
            if (try? SDBlocks.requireSD1UNet(tensorNames, path: path)) != nil {
                return try make("in-mid-out", tensorNames: tensorNames, path: path)
            }
            if isTrainerMLP(tensorNames) { return try make("mlp", tensorNames: tensorNames, path: path) }
            if isUNet(tensorNames), let unet = try? make("unet", tensorNames: tensorNames, path: path) { return unet }
            return try make("top", tensorNames: tensorNames, path: path)
        case "mbw":
            try requireSD(tensorNames, path: path)
            candidates = SDBlocks.names.map { Group(name: $0, patterns: [.block($0)]) }
        case "in-mid-out":
            try requireSD(tensorNames, path: path)
            candidates = [Group(name: "BASE", patterns: [.block("BASE")]),
                          Group(name: "IN", patterns: SDBlocks.names[1...12].map { .block($0) }),
                          Group(name: "MID", patterns: [.block("M00")]),
                          Group(name: "OUT", patterns: SDBlocks.names[14...25].map { .block($0) })]
        case "mlp":
            guard isTrainerMLP(tensorNames) else {
                throw EngineError.badParameter(source: "--block-groups", reason: "\(path) is not tvtool's trainer MLP (no input.weight / output.weight); use --block-groups top")
            }
            let blocks = Set(tensorNames.compactMap(blockIndex)).sorted()
            candidates = [Group(name: "IN", patterns: [.glob("time_embed.*"), .glob("input.*")])]
                + blocks.map { Group(name: "B\($0)", patterns: [.glob("blocks.\($0).*")]) }
                + [Group(name: "OUT", patterns: [.glob("output.*")])]
        case "unet":
            guard isUNet(tensorNames) else {
                throw EngineError.badParameter(source: "--block-groups", reason: "\(path) is not a diffusers UNet (no conv_in.weight / conv_out.weight / down_blocks.* / up_blocks.*); use --block-groups top")
            }
            let downs = Set(tensorNames.compactMap { index($0, under: "down_blocks") }).sorted()
            let ups = Set(tensorNames.compactMap { index($0, under: "up_blocks") }).sorted()
            // The timestep (and class/extra) embeddings enter with conv_in: one input group.
            let inputs = ["conv_in", "time_proj", "time_embedding", "class_embedding", "add_time_proj", "add_embedding", "encoder_hid_proj"]
            candidates = [Group(name: "IN", patterns: inputs.map { .glob($0 + ".*") })]
                + downs.map { Group(name: "D\($0)", patterns: [.glob("down_blocks.\($0).*")]) }
                + [Group(name: "MID", patterns: [.glob("mid_block.*")])]
                + ups.map { Group(name: "U\($0)", patterns: [.glob("up_blocks.\($0).*")]) }
                + [Group(name: "OUT", patterns: [.glob("conv_norm_out.*"), .glob("conv_out.*")])]
        case "top":
            var seen: [String] = []
            for name in tensorNames {
                let head = String(name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)[0])
                if !seen.contains(head) { seen.append(head) }
            }
            candidates = seen.map { head in
                Group(name: head, patterns: [.regex("^" + NSRegularExpression.escapedPattern(for: head) + "(\\.|$)")])
            }
        default:
            throw EngineError.badParameter(source: "--block-groups", reason: "unknown scheme '\(scheme)' (schemes: \(schemes.joined(separator: ", ")))")
        }
        // Assign every tensor to its first matching group; keep the groups that got tensors.
        var assigned: [String: Int] = [:]
        var used = Set<Int>()
        for name in tensorNames {
            guard let g = candidates.firstIndex(where: { $0.patterns.contains { $0.matches(name) } }) else {
                throw EngineError.badParameter(source: "--block-groups", reason: "\(path): tensor '\(name)' is in no group of scheme \(s)")
            }
            assigned[name] = g
            used.insert(g)
        }
        let kept = candidates.indices.filter { used.contains($0) }
        let renumber = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
        guard !kept.isEmpty else {
            throw EngineError.badParameter(source: "--block-groups", reason: "\(path) has no tensor to group")
        }
        return BlockGroups(scheme: s, groups: kept.map { candidates[$0] }, known: assigned.mapValues { renumber[$0]! })
    }

    /// The index of the group of `name` (nil: in no group; such a tensor is not merged per block).
    public func group(of name: String) -> Int? {
        if let g = known[name] { return g }
        return groups.firstIndex { $0.patterns.contains { $0.matches(name) } }
    }

    /// Axis names, model-major: for labels [w1, w2] and groups [IN, OUT]: w1_IN, w1_OUT, w2_IN, w2_OUT.
    public func axisNames(modelLabels: [String]) -> [String] {
        modelLabels.flatMap { m in names.map { "\(m)_\($0)" } }
    }

    /// Per-model weights of group `g` from model-major coordinates (`modelCount` × `count` values).
    public func weights(of g: Int, in coordinates: [Double], modelCount: Int) -> [Double] {
        precondition(coordinates.count == modelCount * count, "one coordinate per model and group")
        return (0..<modelCount).map { coordinates[$0 * count + g] }
    }

    /// Per-model weights of tensor `name` (nil when it is in no group).
    public func weights(tensor name: String, coordinates: [Double], modelCount: Int) -> [Double]? {
        group(of: name).map { weights(of: $0, in: coordinates, modelCount: modelCount) }
    }

    /// Model-major coordinates with weight `perModel[m]` for every group of model m (the
    /// per-model point a per-block search can start from).
    public func expand(perModel: [Double]) -> [Double] {
        perModel.flatMap { w in Array(repeating: w, count: count) }
    }

    /// The engine rules that give each group its weights (`parameter` = the method's weight
    /// parameter), in group order: the same first-match resolution as `group(of:)`.
    public func rules(_ coordinates: [Double], modelCount: Int, parameter: String = "weight") -> [TensorRule] {
        groups.indices.flatMap { g in
            let w = ParameterValue.perModel(weights(of: g, in: coordinates, modelCount: modelCount))
            return groups[g].patterns.map {
                TensorRule(pattern: $0, values: [parameter: w], label: "group \(groups[g].name) (per-block weights)")
            }
        }
    }

    private static func requireSD(_ names: [String], path: String) throws {
        do { try SDBlocks.requireSD1UNet(names, path: path) } catch let EngineError.badParameter(_, reason) {
            throw EngineError.badParameter(source: "--block-groups", reason: reason)
        }
    }

    static func isTrainerMLP(_ names: [String]) -> Bool {
        names.contains("input.weight") && names.contains("output.weight")
            && names.allSatisfy { ["time_embed.", "input.", "blocks.", "output."].contains(where: $0.hasPrefix) }
    }

    /// A diffusers UNet's top-level layout (UNet2DModel; also UNet2DConditionModel in diffusers naming).
    static func isUNet(_ names: [String]) -> Bool {
        names.contains("conv_in.weight") && names.contains("conv_out.weight")
            && names.contains { $0.hasPrefix("down_blocks.") } && names.contains { $0.hasPrefix("up_blocks.") }
    }

    /// `i` of `<container>.i.…`.
    private static func index(_ name: String, under container: String) -> Int? {
        let parts = name.split(separator: ".")
        guard parts.count >= 3, parts[0] == container else { return nil }
        return Int(parts[1])
    }

    private static func blockIndex(_ name: String) -> Int? {
        let parts = name.split(separator: ".")
        guard parts.count >= 3, parts[0] == "blocks" else { return nil }
        return Int(parts[1])
    }
}
