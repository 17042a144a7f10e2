import TVStorage

/// Which model tensor a LoRA module updates. Model tensors are indexed by their module path (the
/// name without `.weight`), with and without the prefix of their part (`model.diffusion_model.`,
/// `cond_stage_model.transformer.`, `unet.`, `text_encoder.`), and by kohya's flattened spelling
/// (`lora_unet_` / `lora_te_` + path with dots as underscores). A module key is looked up as it
/// is and without its own prefix (`base_model.model.`, `unet.`, `text_encoder.`). A UNet tensor is
/// also indexed under its other SD naming (SDNaming's UNet table: `input_blocks.1.1.proj_in` ↔
/// `down_blocks.0.attentions.0.proj_in`, flattened for kohya too), so a diffusers/PEFT or modern
/// kohya LoRA bakes onto a single-file checkpoint and an LDM-named kohya LoRA onto a diffusers UNet.
struct LoRATargets {
    private var byPath: [String: Set<String>] = [:]

    static let unetPrefixes = ["model.diffusion_model.", "unet."]
    static let textPrefixes = ["cond_stage_model.transformer.", "cond_stage_model.", "text_encoder."]
    static let modulePrefixes = ["base_model.model.", "unet.", "text_encoder."]

    init(model: any CheckpointReader) {
        for t in model.tensors where t.dtype.supportsArithmetic && t.name.hasSuffix(".weight") && t.shape.count >= 2 {
            let path = String(t.name.dropLast(".weight".count))
            add(path, t.name)
            var part: [String] = ["unet", "te"]  // unprefixed: a UNet or a text encoder file
            var rest = path
            if let p = Self.unetPrefixes.first(where: path.hasPrefix) { rest = String(path.dropFirst(p.count)); part = ["unet"] }
            else if let p = Self.textPrefixes.first(where: path.hasPrefix) { rest = String(path.dropFirst(p.count)); part = ["te"] }
            var spellings = [rest]
            if part.contains("unet") {
                let single = path.hasPrefix(Self.unetPrefixes[0])
                if let other = SDNaming.otherUNetName(rest, fromSingleFile: single) {
                    spellings.append(other)
                    add(other, t.name)
                }
            }
            add(rest, t.name)
            for spelling in spellings {
                let flat = spelling.replacingOccurrences(of: ".", with: "_")
                for p in part {
                    add("lora_\(p)_" + flat, t.name)
                    if p == "te" { add("lora_te1_" + flat, t.name) }
                }
            }
        }
    }

    private mutating func add(_ key: String, _ tensor: String) { byPath[key, default: []].insert(tensor) }

    /// The tensor for `module`, nil when none; throws when several match.
    func tensor(for module: String, path: String) throws -> String? {
        var candidates = [module]
        for p in Self.modulePrefixes where module.hasPrefix(p) { candidates.append(String(module.dropFirst(p.count))) }
        for c in candidates {
            guard let hits = byPath[c] else { continue }
            guard hits.count == 1 else { throw LoRAError.ambiguous(path: path, module: module, tensors: hits.sorted()) }
            return hits.first
        }
        return nil
    }
}
