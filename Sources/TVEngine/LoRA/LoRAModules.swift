import Foundation
import TVStorage

/// One weight update read from a LoRA file, ΔW = factor · F where F depends on the kind
/// (docs/lora.md): LoRA up @ down, LyCORIS LoHa (w1a@w1b) ⊙ (w2a@w2b), LyCORIS LoKr w1 ⊗ w2.
public struct LoRAModule: Sendable {
    public enum Factors: Sendable, Equatable {
        /// down (r×in[×kh×kw]) and up (out×r[×1×1]).
        case lowRank(down: String, up: String)
        /// LoHa; t1/t2: Tucker cores (r×r×kh×kw) of a conv LoHa, with w·a r×out and w·b r×in.
        case loha(w1a: String, w1b: String, w2a: String, w2b: String, t1: String?, t2: String?)
        /// LoKr: each half full (w1, w2) or factorised (w·a @ w·b); t2: Tucker core of a conv w2.
        case lokr(w1: String?, w1a: String?, w1b: String?, w2: String?, w2a: String?, w2b: String?, t2: String?)
    }
    /// The module's key in the file without its suffix, e.g. `lora_unet_down_blocks_0_attentions_0_proj_in`.
    public var key: String
    public var factors: Factors
    /// The alpha tensor (kohya/LyCORIS) or the adapter config's value; nil: scale 1.
    public var alpha: Double?
    /// rsLoRA (PEFT `use_rslora`): scale alpha / sqrt(rank) instead of alpha / rank.
    public var rsLoRA = false
}

/// The modules of a LoRA file, in any of the namings:
/// kohya `K.lora_down.weight` / `K.lora_up.weight` / `K.alpha`; diffusers `K.lora.down.weight` /
/// `K.lora.up.weight` (and the older attention processors' `…processor.to_q_lora.down.weight`);
/// PEFT and newer diffusers `K.lora_A.weight` / `K.lora_B.weight`, with `lora_alpha`, `r`,
/// `alpha_pattern` and `use_rslora` from an adapter_config.json when present; LyCORIS LoHa
/// (`K.hada_w1_a`, `…_w1_b`, `…_w2_a`, `…_w2_b`, `…_t1`, `…_t2`) and LoKr (`K.lokr_w1` or
/// `K.lokr_w1_a`/`_b`, `K.lokr_w2` or `K.lokr_w2_a`/`_b`, `K.lokr_t2`). DoRA and the other LyCORIS
/// kinds are refused by name.
public enum LoRAModules {
    static let downSuffixes = [".lora_down.weight", ".lora.down.weight", "_lora.down.weight", ".lora_A.weight"]
    static let upSuffixes = [".lora_up.weight", ".lora.up.weight", "_lora.up.weight", ".lora_B.weight"]
    static let lycorisRoles = ["hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2",
                               "lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b", "lokr_t2"]
    /// Keys of update kinds tvtool does not bake, with the name users know them by.
    static let refusedSuffixes: [(suffix: String, kind: String)] = [
        (".dora_scale", "DoRA (weight-decomposed LoRA, dora_scale)"), (".diff", "LyCORIS full (diff)"), (".diff_b", "LyCORIS full (diff_b)"),
        (".oft_blocks", "OFT"), (".oft_diag", "OFT"), (".on_input", "LyCORIS IA3"), (".w_norm", "LyCORIS norm"), (".b_norm", "LyCORIS norm"),
        (".a1.weight", "GLoRA"), (".b1.weight", "GLoRA"),
    ]

    public static func read(_ reader: any CheckpointReader, adapterConfig: String? = nil) throws -> [LoRAModule] {
        var roles: [String: [String: String]] = [:]  // key → role → tensor
        for t in reader.tensors {
            if let k = strip(t.name, downSuffixes) { roles[k, default: [:]]["down"] = t.name }
            else if let k = strip(t.name, upSuffixes) { roles[k, default: [:]]["up"] = t.name }
            else if let k = strip(t.name, [".alpha"]) { roles[k, default: [:]]["alpha"] = t.name }
            else if let role = lycorisRoles.first(where: { t.name.hasSuffix("." + $0) }) {
                roles[String(t.name.dropLast(role.count + 1)), default: [:]][role] = t.name
            } else if let r = refusedSuffixes.first(where: { t.name.hasSuffix($0.suffix) }) {
                throw LoRAError.unsupportedKind(path: reader.path, module: String(t.name.dropLast(r.suffix.count)), kind: r.kind)
            } else {
                throw LoRAError.unknownKey(path: reader.path, key: t.name)
            }
        }
        let config = try adapterConfig.map { try AdapterConfig.load($0) }
        var modules: [LoRAModule] = []
        for key in roles.keys.sorted() {
            let r = roles[key]!
            let factors = try self.factors(r, key: key, path: reader.path)
            var m = LoRAModule(key: normalized(key), factors: factors)
            if let a = r["alpha"] {
                let values = try reader.tensor(named: a).doubles()
                guard values.count == 1, values[0].isFinite else {
                    throw LoRAError.badShape(path: reader.path, module: key, reason: "alpha is not one finite number")
                }
                m.alpha = values[0]
            } else if let config, case let .lowRank(down, _) = factors {
                let rank = reader.info(named: down)?.shape.first ?? 0
                m.alpha = config.alpha(for: m.key, rank: rank)
                m.rsLoRA = config.rsLoRA
            }
            modules.append(m)
        }
        return modules
    }

    /// Which kind a key's tensors make; an incomplete or mixed set is an error naming what lacks.
    private static func factors(_ r: [String: String], key: String, path: String) throws -> LoRAModule.Factors {
        let lowRank = r["down"] != nil || r["up"] != nil
        let loha = r.keys.contains { $0.hasPrefix("hada_") }, lokr = r.keys.contains { $0.hasPrefix("lokr_") }
        guard [lowRank, loha, lokr].filter({ $0 }).count <= 1 else {
            throw LoRAError.badShape(path: path, module: key, reason: "mixes LoRA, LoHa and LoKr tensors")
        }
        if loha {
            for role in ["hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b"] where r[role] == nil {
                throw LoRAError.incompleteModule(path: path, module: key, missing: role)
            }
            guard (r["hada_t1"] == nil) == (r["hada_t2"] == nil) else {
                throw LoRAError.incompleteModule(path: path, module: key, missing: r["hada_t1"] == nil ? "hada_t1" : "hada_t2")
            }
            return .loha(w1a: r["hada_w1_a"]!, w1b: r["hada_w1_b"]!, w2a: r["hada_w2_a"]!, w2b: r["hada_w2_b"]!, t1: r["hada_t1"], t2: r["hada_t2"])
        }
        if lokr {
            for n in ["1", "2"] where r["lokr_w\(n)"] == nil && (r["lokr_w\(n)_a"] == nil || r["lokr_w\(n)_b"] == nil) {
                throw LoRAError.incompleteModule(path: path, module: key, missing: "lokr_w\(n) (or lokr_w\(n)_a and lokr_w\(n)_b)")
            }
            if r["lokr_t2"] != nil, r["lokr_w2_a"] == nil {
                throw LoRAError.incompleteModule(path: path, module: key, missing: "lokr_w2_a and lokr_w2_b (for lokr_t2)")
            }
            return .lokr(w1: r["lokr_w1"], w1a: r["lokr_w1_a"], w1b: r["lokr_w1_b"], w2: r["lokr_w2"], w2a: r["lokr_w2_a"], w2b: r["lokr_w2_b"], t2: r["lokr_t2"])
        }
        guard let down = r["down"] else { throw LoRAError.incompleteModule(path: path, module: key, missing: lowRank ? "down (lora_A)" : "down or up") }
        guard let up = r["up"] else { throw LoRAError.incompleteModule(path: path, module: key, missing: "up (lora_B)") }
        return .lowRank(down: down, up: up)
    }

    /// The adapter_config.json next to `loraPath`, if there is one (PEFT's layout).
    public static func adapterConfigBeside(_ loraPath: String) -> String? {
        let url = URL(fileURLWithPath: loraPath)
        let dir = url.hasDirectoryPath ? url : url.deletingLastPathComponent()
        let p = dir.appendingPathComponent("adapter_config.json").path
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    private static func strip(_ name: String, _ suffixes: [String]) -> String? {
        for s in suffixes where name.hasSuffix(s) { return String(name.dropLast(s.count)) }
        return nil
    }

    /// Old diffusers attention processors name `attn1.processor.to_q_lora`: the module is `attn1.to_q`.
    private static func normalized(_ key: String) -> String {
        key.replacingOccurrences(of: ".processor.", with: ".")
    }
}

/// PEFT's adapter_config.json: the scale of each module.
struct AdapterConfig {
    var r: Int?
    var loraAlpha: Double?
    var alphaPattern: [String: Double] = [:]
    var rsLoRA = false

    static func load(_ path: String) throws -> AdapterConfig {
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw LoRAError.badConfig(path: path, reason: "not a readable JSON object")
        }
        var c = AdapterConfig()
        c.r = (obj["r"] as? NSNumber)?.intValue
        c.loraAlpha = (obj["lora_alpha"] as? NSNumber)?.doubleValue
        c.alphaPattern = ((obj["alpha_pattern"] as? [String: Any]) ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
        c.rsLoRA = (obj["use_rslora"] as? Bool) ?? false
        if let a = c.loraAlpha, !a.isFinite { throw LoRAError.badConfig(path: path, reason: "lora_alpha is not finite") }
        return c
    }

    /// PEFT matches pattern keys against the end of the module path.
    func alpha(for module: String, rank: Int) -> Double {
        let path = module.hasPrefix("base_model.model.") ? String(module.dropFirst("base_model.model.".count)) : module
        for (k, v) in alphaPattern.sorted(by: { $0.key.count > $1.key.count }) where path == k || path.hasSuffix("." + k) { return v }
        return loraAlpha ?? Double(rank)
    }
}
