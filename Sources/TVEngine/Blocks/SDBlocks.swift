import Foundation

/// The 26 block names of supermerger's / A1111's block-weighted merge for the SD 1.x (and 2.x)
/// UNet — BASE (everything outside the UNet: text encoder, VAE), IN00–IN11, M00, OUT00–OUT11 — and
/// which block a tensor belongs to, in both namings (SD single-file `model.diffusion_model.*` and
/// diffusers `down_blocks.*`). Table and sources: docs/block-weights.md.
public enum SDBlocks {
    /// BASE, IN00…IN11, M00, OUT00…OUT11: the order of the values in a block-weight list.
    public static let names: [String] = ["BASE"] + (0..<12).map { String(format: "IN%02d", $0) } + ["M00"]
        + (0..<12).map { String(format: "OUT%02d", $0) }

    /// Where a tensor name lies: outside the UNet, in one of the 25 UNet blocks, or in the UNet but
    /// in no SD 1.x block (SDXL's label_emb, a 13th input block, …).
    public enum Placement: Equatable, Sendable {
        case base
        /// Index into `names` (1…25).
        case block(Int)
        case unplaceable(reason: String)
    }

    static let singleFilePrefix = "model.diffusion_model."
    static let diffusersPrefixes = ["unet.", "base_model.model.unet.", ""]

    /// The block of `name`, following supermerger (mergers.py, `smerge`): time_embed goes with IN00
    /// and the final `out.*` (norm and conv) with OUT11; for diffusers names the same tensors
    /// (time_embedding, conv_in → IN00; conv_norm_out, conv_out → OUT11).
    public static func placement(of name: String) -> Placement {
        if name.hasPrefix(singleFilePrefix) { return singleFile(String(name.dropFirst(singleFilePrefix.count))) }
        for prefix in diffusersPrefixes where name.hasPrefix(prefix) {
            if let p = diffusers(String(name.dropFirst(prefix.count))) { return p }
        }
        return .base
    }

    /// The block name of `name` ("BASE", "IN04", …), nil when it cannot be placed.
    public static func blockName(of name: String) -> String? {
        switch placement(of: name) {
        case .base: return "BASE"
        case .block(let i): return names[i]
        case .unplaceable: return nil
        }
    }

    // MARK: - single-file naming (ldm / CompVis)

    private static func singleFile(_ rest: String) -> Placement {
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let head = parts.first else { return .unplaceable(reason: "empty UNet tensor name") }
        switch head {
        case "time_embed": return .block(1)
        case "out": return .block(25)
        case "middle_block": return .block(13)
        case "input_blocks", "output_blocks":
            guard parts.count > 2, let n = Int(parts[1]), n >= 0 else { return .unplaceable(reason: "no block index") }
            guard n < 12 else { return .unplaceable(reason: "\(head).\(n) (SD 1.x has \(head).0 to .11)") }
            return .block(head == "input_blocks" ? 1 + n : 14 + n)
        default: return .unplaceable(reason: "'\(head)' is not part of the SD 1.x UNet")
        }
    }

    // MARK: - diffusers naming

    /// nil when `rest` is not a diffusers UNet name at all (then it counts as BASE).
    private static func diffusers(_ rest: String) -> Placement? {
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2 else { return nil }
        switch parts[0] {
        case "conv_in", "time_embedding": return .block(1)
        case "conv_norm_out", "conv_out": return .block(25)
        case "mid_block": return .block(13)
        case "down_blocks", "up_blocks":
            guard parts.count > 4, let i = Int(parts[1]), let j = Int(parts[3]) else {
                return .unplaceable(reason: "no block index")
            }
            return parts[0] == "down_blocks" ? down(i, parts[2], j) : up(i, parts[2], j)
        case "class_embedding", "add_embedding", "add_time_proj", "encoder_hid_proj", "time_proj":
            return .unplaceable(reason: "'\(parts[0])' is not part of the SD 1.x UNet")
        default: return nil
        }
    }

    /// down_blocks.i: resnets/attentions .j → input_blocks 3i+1+j; downsamplers.0 → 3i+3.
    private static func down(_ i: Int, _ kind: String, _ j: Int) -> Placement {
        guard (0..<4).contains(i) else { return .unplaceable(reason: "down_blocks.\(i) (SD 1.x has 0 to 3)") }
        switch kind {
        case "resnets", "attentions":
            guard (0..<2).contains(j), !(i == 3 && kind == "attentions") else {
                return .unplaceable(reason: "down_blocks.\(i).\(kind).\(j) is not in SD 1.x")
            }
            return .block(1 + 3 * i + 1 + j)
        case "downsamplers":
            guard j == 0, i < 3 else { return .unplaceable(reason: "down_blocks.\(i).downsamplers.\(j) is not in SD 1.x") }
            return .block(1 + 3 * i + 3)
        default: return .unplaceable(reason: "down_blocks.\(i).\(kind) is not in SD 1.x")
        }
    }

    /// up_blocks.i: resnets/attentions .j → output_blocks 3i+j; upsamplers.0 → 3i+2.
    private static func up(_ i: Int, _ kind: String, _ j: Int) -> Placement {
        guard (0..<4).contains(i) else { return .unplaceable(reason: "up_blocks.\(i) (SD 1.x has 0 to 3)") }
        switch kind {
        case "resnets", "attentions":
            guard (0..<3).contains(j), !(i == 0 && kind == "attentions") else {
                return .unplaceable(reason: "up_blocks.\(i).\(kind).\(j) is not in SD 1.x")
            }
            return .block(14 + 3 * i + j)
        case "upsamplers":
            guard j == 0, i < 3 else { return .unplaceable(reason: "up_blocks.\(i).upsamplers.\(j) is not in SD 1.x") }
            return .block(14 + 3 * i + 2)
        default: return .unplaceable(reason: "up_blocks.\(i).\(kind) is not in SD 1.x")
        }
    }

    // MARK: - layout check

    /// Checks that `tensorNames` (from `path`) are an SD 1.x/2.x UNet, alone or inside a full
    /// checkpoint: every UNet tensor has a block, and the deepest blocks IN11 and OUT11 have
    /// tensors (SDXL's UNet stops at input_blocks.8). Throws a one-line usage error otherwise.
    public static func requireSD1UNet(_ tensorNames: [String], path: String) throws {
        var seen = Set<Int>()
        for name in tensorNames {
            switch placement(of: name) {
            case .base: continue
            case .block(let i): seen.insert(i)
            case .unplaceable(let reason):
                throw EngineError.badParameter(source: "--block-weights",
                                               reason: "\(path) is not an SD 1.x UNet: tensor '\(name)': \(reason)")
            }
        }
        guard !seen.isEmpty else {
            throw EngineError.badParameter(source: "--block-weights",
                                           reason: "\(path) is not an SD 1.x UNet: no tensor named model.diffusion_model.* or down_blocks/mid_block/up_blocks.*")
        }
        for (i, what) in [(12, "input_blocks.11 / down_blocks.3.resnets.1"), (13, "middle_block / mid_block"),
                          (25, "output_blocks.11 / up_blocks.3.resnets.2")] where !seen.contains(i) {
            throw EngineError.badParameter(source: "--block-weights",
                                           reason: "\(path) is not an SD 1.x UNet: block \(names[i]) (\(what)) has no tensor")
        }
    }
}
