/// Maps tensor names (and the few shapes that differ) between an SD 1.x/2.x single-file
/// checkpoint and diffusers' pipeline naming, where each component's names carry its folder as a
/// prefix (`unet.conv_in.weight`, `vae.encoder.conv_in.weight`, `text_encoder.text_model.…`).
/// Produces `RemappedEntry` lists for `RemappedReader`; nothing is copied except the fused
/// OpenCLIP q/k/v projection when going back to the single file.
public enum SDNaming {
    public enum Version: String, Sendable { case v1 = "1", v2 = "2" }

    static let diffusersPrefixes: [SDComponent: String] = [.unet: "unet.", .vae: "vae.", .textEncoder: "text_encoder."]

    /// True when the names look like an SD single-file checkpoint (LDM layout).
    public static func isSingleFile(_ names: [String]) -> Bool {
        names.contains { $0.hasPrefix(SDNamingTable.unetPrefix) || $0.hasPrefix(SDNamingTable.vaePrefix) || $0.hasPrefix("cond_stage_model.") }
    }

    /// True when the names are a diffusers pipeline's (component-prefixed) naming.
    public static func isPipelineNaming(_ names: [String]) -> Bool {
        names.contains { $0.hasPrefix("unet.") || $0.hasPrefix("vae.") || $0.hasPrefix("text_encoder.") }
    }

    /// The other naming of a UNet tensor path without its part prefix: single-file
    /// (`input_blocks.1.1.proj_in`) → diffusers (`down_blocks.0.attentions.0.proj_in`) or back;
    /// nil when no rule of the SD 1.x/2.x UNet table applies (LoRA targets use both spellings).
    public static func otherUNetName(_ path: String, fromSingleFile: Bool) -> String? {
        let (mapped, _) = map(path, SDNamingTable.unet, toDiffusers: fromSingleFile)
        return mapped == path ? nil : mapped
    }

    /// The transformers CLIPTextModel path (diffusers' text encoder) of an SD 2.x OpenCLIP path
    /// after `cond_stage_model.model.` (`transformer.resblocks.3.mlp.c_fc` →
    /// `text_model.encoder.layers.3.mlp.fc1`); nil when no rule applies. The fused
    /// `attn.in_proj_weight` has no single counterpart (it is q_proj, k_proj and v_proj).
    public static func openCLIPToDiffusers(_ path: String) -> String? {
        let block = "transformer.resblocks."
        let layer = path.hasPrefix(block) ? Int(path.dropFirst(block.count).prefix { $0 != "." }) ?? 0 : 0
        let (mapped, _) = map(path, SDNamingTable.openCLIP(layers: layer + 1), toDiffusers: true)
        return mapped == path ? nil : mapped
    }

    // MARK: single file → diffusers

    /// The diffusers-named view of a single-file checkpoint's tensors. Tensors outside the three
    /// models (noise-schedule buffers, `model_ema.*`, …) are left out and named in `notes`
    /// (without the file's path, as every reader's notes: whoever prints them names the file).
    static func toDiffusers(_ infos: [TensorInfo]) throws -> (entries: [RemappedEntry], notes: [String]) {
        var entries: [RemappedEntry] = []
        var left: [String] = []
        let clipLayers = layerCount(infos.map(\.name), prefix: SDNamingTable.openCLIPPrefix + "transformer.resblocks.")
        for info in infos {
            let n = info.name
            if n.hasPrefix(SDNamingTable.unetPrefix) {
                let (name, _) = map(String(n.dropFirst(SDNamingTable.unetPrefix.count)), SDNamingTable.unet, toDiffusers: true)
                entries.append(.init(info: TensorInfo(name: "unet." + name, dtype: info.dtype, shape: info.shape), source: .whole(n)))
            } else if n.hasPrefix(SDNamingTable.vaePrefix) {
                let (name, parts) = map(String(n.dropFirst(SDNamingTable.vaePrefix.count)), SDNamingTable.vae, toDiffusers: true)
                var shape = info.shape
                if case .vaeAttention = parts, isAttentionWeight(name, diffusers: true), shape.count == 4, shape[2] == 1, shape[3] == 1 {
                    shape = [shape[0], shape[1]]
                }
                entries.append(.init(info: TensorInfo(name: "vae." + name, dtype: info.dtype, shape: shape), source: .whole(n)))
            } else if n.hasPrefix(SDNamingTable.clipPrefix) {
                let name = "text_encoder." + n.dropFirst(SDNamingTable.clipPrefix.count)
                entries.append(.init(info: TensorInfo(name: name, dtype: info.dtype, shape: info.shape), source: .whole(n)))
            } else if n.hasPrefix(SDNamingTable.openCLIPPrefix) {
                let rest = String(n.dropFirst(SDNamingTable.openCLIPPrefix.count))
                let (name, _) = map(rest, SDNamingTable.openCLIP(layers: clipLayers), toDiffusers: true)
                for suffix in ["weight", "bias"] where name.hasSuffix(".attn.in_proj_\(suffix)") {
                    guard let rows = info.shape.first, rows % 3 == 0 else {
                        throw StorageError.invalidTensor(tensor: n, reason: "fused q/k/v projection of shape \(Shape.describe(info.shape)) does not split in three")
                    }
                    let stem = name.dropLast("attn.in_proj_\(suffix)".count)
                    for (k, qkv) in ["q", "k", "v"].enumerated() {
                        let shape = [rows / 3] + info.shape.dropFirst()
                        entries.append(.init(info: TensorInfo(name: "text_encoder.\(stem)self_attn.\(qkv)_proj.\(suffix)", dtype: info.dtype, shape: shape),
                                             source: .rows(n, part: k, of: 3)))
                    }
                }
                if !name.hasSuffix(".attn.in_proj_weight") && !name.hasSuffix(".attn.in_proj_bias") {
                    entries.append(.init(info: TensorInfo(name: "text_encoder." + name, dtype: info.dtype, shape: info.shape), source: .whole(n)))
                }
            } else {
                left.append(n)
            }
        }
        var notes: [String] = []
        if !left.isEmpty {
            let shown = left.prefix(6).joined(separator: ", ")
            notes.append("\(left.count) tensor(s) outside the UNet, VAE and text encoder left out of the diffusers naming: \(shown)\(left.count > 6 ? ", …" : "")")
        }
        return (entries, notes)
    }

    // MARK: diffusers → single file

    /// The single-file view of a diffusers pipeline's tensors (component-prefixed names). The
    /// version decides the text encoder's layout; nil detects it from the UNet (SD 2.x has linear
    /// proj_in, SD 1.x a 1×1 conv) or the presence of OpenCLIP-only tensors.
    static func toSingleFile(_ infos: [TensorInfo], version: Version?) throws -> (entries: [RemappedEntry], notes: [String]) {
        let byName = Dictionary(infos.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let v = version ?? detectVersion(byName)
        let clipLayers = layerCount(infos.map(\.name), prefix: "text_encoder.text_model.encoder.layers.")
        var entries: [RemappedEntry] = []
        var left: [String] = []
        for info in infos {
            let n = info.name
            if n.hasPrefix("unet.") {
                let (name, _) = map(String(n.dropFirst(5)), SDNamingTable.unet, toDiffusers: false)
                entries.append(.init(info: TensorInfo(name: SDNamingTable.unetPrefix + name, dtype: info.dtype, shape: info.shape), source: .whole(n)))
            } else if n.hasPrefix("vae.") {
                let (name, parts) = map(String(n.dropFirst(4)), SDNamingTable.vae, toDiffusers: false)
                var shape = info.shape
                if case .vaeAttention = parts, isAttentionWeight(String(n.dropFirst(4)), diffusers: true), shape.count == 2 { shape += [1, 1] }
                entries.append(.init(info: TensorInfo(name: SDNamingTable.vaePrefix + name, dtype: info.dtype, shape: shape), source: .whole(n)))
            } else if n.hasPrefix("text_encoder.") {
                let rest = String(n.dropFirst("text_encoder.".count))
                guard v == .v2 else {
                    entries.append(.init(info: TensorInfo(name: SDNamingTable.clipPrefix + rest, dtype: info.dtype, shape: info.shape), source: .whole(n)))
                    continue
                }
                if let fused = try fusedProjection(n, rest: rest, byName: byName) {
                    entries.append(fused)
                    continue
                }
                if rest.contains(".self_attn.k_proj.") || rest.contains(".self_attn.v_proj.") { continue }  // part of a fused entry
                let (name, _) = map(rest, SDNamingTable.openCLIP(layers: clipLayers), toDiffusers: false)
                entries.append(.init(info: TensorInfo(name: SDNamingTable.openCLIPPrefix + name, dtype: info.dtype, shape: info.shape), source: .whole(n)))
            } else {
                left.append(n)
            }
        }
        var notes: [String] = []
        if !left.isEmpty { notes.append("\(left.count) tensor(s) outside unet/vae/text_encoder left out of the single-file naming") }
        return (entries, notes)
    }

    /// `…self_attn.q_proj.weight` (with k and v) → OpenCLIP's `…attn.in_proj_weight`.
    private static func fusedProjection(_ n: String, rest: String, byName: [String: TensorInfo]) throws -> RemappedEntry? {
        for suffix in ["weight", "bias"] where rest.hasSuffix(".self_attn.q_proj.\(suffix)") {
            let stem = String(n.dropLast("q_proj.\(suffix)".count))
            let names = ["q", "k", "v"].map { "\(stem)\($0)_proj.\(suffix)" }
            let infos = names.compactMap { byName[$0] }
            guard infos.count == 3, infos.allSatisfy({ $0.shape == infos[0].shape && $0.dtype == infos[0].dtype }), let rows = infos[0].shape.first else {
                throw StorageError.invalidTensor(tensor: n, reason: "q/k/v projections are missing or differ in shape, so they cannot be fused into OpenCLIP's in_proj")
            }
            let layer = rest.dropFirst("text_model.encoder.layers.".count).prefix { $0 != "." }
            let name = "\(SDNamingTable.openCLIPPrefix)transformer.resblocks.\(layer).attn.in_proj_\(suffix)"
            return .init(info: TensorInfo(name: name, dtype: infos[0].dtype, shape: [3 * rows] + infos[0].shape.dropFirst()), source: .concatRows(names))
        }
        return nil
    }

    static func detectVersion(_ byName: [String: TensorInfo]) -> Version {
        if byName["text_encoder.text_projection"] != nil || byName["text_encoder.logit_scale"] != nil { return .v2 }
        if let p = byName["unet.down_blocks.0.attentions.0.proj_in.weight"] { return p.shape.count == 2 ? .v2 : .v1 }
        return .v1
    }

    // MARK: table lookup

    /// Applies the longest matching rule (or none: the name is kept) in either direction.
    static func map(_ name: String, _ rules: [SDPrefixRule], toDiffusers: Bool) -> (String, SDPartTable) {
        let probe = name + "."
        var best: SDPrefixRule?
        for r in rules {
            let from = toDiffusers ? r.sd : r.diffusers
            if probe.hasPrefix(from), from.count > (best.map { toDiffusers ? $0.sd : $0.diffusers }?.count ?? 0) { best = r }
        }
        guard let rule = best else { return (name, .same) }
        let from = toDiffusers ? rule.sd : rule.diffusers, to = toDiffusers ? rule.diffusers : rule.sd
        var rest = String(probe.dropFirst(from.count))
        let parts: [(sd: String, diffusers: String)]
        switch rule.parts {
        case .same: parts = []
        case let .renamed(p): parts = p
        case .vaeAttention: parts = SDNamingTable.vaeAttentionParts
        case .openCLIPBlock: parts = SDNamingTable.openCLIPParts
        }
        for p in parts {
            let a = toDiffusers ? p.sd : p.diffusers, b = toDiffusers ? p.diffusers : p.sd
            if rest.hasPrefix(a) { rest = b + rest.dropFirst(a.count); break }
        }
        return (String((to + rest).dropLast()), rule.parts)
    }

    /// VAE attention q/k/v/out weights (conv 1×1 in the single file, linear in diffusers).
    static func isAttentionWeight(_ diffusersName: String, diffusers: Bool) -> Bool {
        ["to_q.weight", "to_k.weight", "to_v.weight", "to_out.0.weight"].contains { diffusersName.hasSuffix("mid_block.attentions.0." + $0) }
    }

    private static func layerCount(_ names: [String], prefix: String) -> Int {
        var count = 0
        for n in names where n.hasPrefix(prefix) {
            if let i = Int(n.dropFirst(prefix.count).prefix { $0 != "." }) { count = max(count, i + 1) }
        }
        return count
    }
}
