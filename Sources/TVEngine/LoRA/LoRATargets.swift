import TVStorage

/// A model tensor a LoRA module updates: the whole tensor, or one third of its rows (`part` 0, 1,
/// 2: q, k, v of OpenCLIP's fused `attn.in_proj_weight` in an SD 2.x single file).
struct LoRATarget: Hashable {
    var tensor: String
    var part: Int?
}

/// Which model tensor a LoRA module updates. Model tensors are indexed by their module path (the
/// name without `.weight`), with and without the prefix of their part (`model.diffusion_model.`,
/// `cond_stage_model.transformer.`, `unet.`, `text_encoder.`), and by kohya's flattened spelling
/// (`lora_unet_` / `lora_te_` + path with dots as underscores). A module key is looked up as it
/// is and without its own prefix (`base_model.model.`, `unet.`, `text_encoder.`). A UNet tensor is
/// also indexed under its other SD naming (SDNaming's UNet table: `input_blocks.1.1.proj_in` ↔
/// `down_blocks.0.attentions.0.proj_in`, flattened for kohya too), so a diffusers/PEFT or modern
/// kohya LoRA bakes onto a single-file checkpoint and an LDM-named kohya LoRA onto a diffusers UNet.
/// An SD 2.x single file's OpenCLIP text tower is indexed under transformers' CLIPTextModel paths
/// (the names SD 2.x text-encoder LoRAs use), its fused q/k/v as three row slices.
struct LoRATargets {
    private var byPath: [String: Set<LoRATarget>] = [:]

    static let unetPrefixes = ["model.diffusion_model.", "unet."]
    static let textPrefixes = ["cond_stage_model.transformer.", "cond_stage_model.", "text_encoder."]
    static let openCLIPPrefix = "cond_stage_model.model."
    static let modulePrefixes = ["base_model.model.", "unet.", "text_encoder."]

    init(model: any CheckpointReader) {
        for t in model.tensors where t.dtype.supportsArithmetic && t.shape.count >= 2 {
            if t.name.hasPrefix(Self.openCLIPPrefix), t.name.hasSuffix(".attn.in_proj_weight") {
                let block = t.name.dropFirst(Self.openCLIPPrefix.count).dropLast(".attn.in_proj_weight".count)
                guard block.hasPrefix("transformer.resblocks."), t.shape[0] % 3 == 0 else { continue }
                let layer = block.dropFirst("transformer.resblocks.".count)
                for (k, qkv) in ["q", "k", "v"].enumerated() {
                    addSpellings("text_model.encoder.layers.\(layer).self_attn.\(qkv)_proj", parts: ["te"], LoRATarget(tensor: t.name, part: k))
                }
                continue
            }
            guard t.name.hasSuffix(".weight") else { continue }
            let path = String(t.name.dropLast(".weight".count))
            let target = LoRATarget(tensor: t.name, part: nil)
            add(path, target)
            var part: [String] = ["unet", "te"]  // unprefixed: a UNet or a text encoder file
            var rest = path
            if let p = Self.unetPrefixes.first(where: path.hasPrefix) { rest = String(path.dropFirst(p.count)); part = ["unet"] }
            else if let p = Self.textPrefixes.first(where: path.hasPrefix) { rest = String(path.dropFirst(p.count)); part = ["te"] }
            addSpellings(rest, parts: part, target)
            if part == ["unet"] || part.count == 2 {
                let single = path.hasPrefix(Self.unetPrefixes[0])
                if let other = SDNaming.otherUNetName(rest, fromSingleFile: single) { addSpellings(other, parts: part, target) }
            }
            if path.hasPrefix(Self.openCLIPPrefix), let clip = SDNaming.openCLIPToDiffusers(String(path.dropFirst(Self.openCLIPPrefix.count))) {
                addSpellings(clip, parts: ["te"], target)
            }
        }
    }

    /// The path itself and kohya's flattened spellings of it.
    private mutating func addSpellings(_ path: String, parts: [String], _ target: LoRATarget) {
        add(path, target)
        let flat = path.replacingOccurrences(of: ".", with: "_")
        for p in parts {
            add("lora_\(p)_" + flat, target)
            if p == "te" { add("lora_te1_" + flat, target) }
        }
    }

    private mutating func add(_ key: String, _ target: LoRATarget) { byPath[key, default: []].insert(target) }

    /// The target of `module`, nil when none; throws when several match.
    func target(for module: String, path: String) throws -> LoRATarget? {
        var candidates = [module]
        for p in Self.modulePrefixes where module.hasPrefix(p) { candidates.append(String(module.dropFirst(p.count))) }
        for c in candidates {
            guard let hits = byPath[c] else { continue }
            guard hits.count == 1 else { throw LoRAError.ambiguous(path: path, module: module, tensors: hits.map(\.tensor).sorted()) }
            return hits.first
        }
        return nil
    }
}
