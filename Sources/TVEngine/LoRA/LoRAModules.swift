import Foundation
import TVStorage

/// One low-rank update read from a LoRA file: ΔW = (alpha / rank) · up @ down.
public struct LoRAModule: Sendable {
    /// The module's key in the file without its suffix, e.g. `lora_unet_down_blocks_0_attentions_0_proj_in`.
    public var key: String
    public var down: String
    public var up: String
    /// The alpha tensor (kohya) or the adapter config's value; nil: alpha = rank (scale 1).
    public var alpha: Double?
    /// rsLoRA (PEFT `use_rslora`): scale alpha / sqrt(rank) instead of alpha / rank.
    public var rsLoRA = false
}

/// The modules of a LoRA file, in any of the three namings:
/// kohya `K.lora_down.weight` / `K.lora_up.weight` / `K.alpha`; diffusers `K.lora.down.weight` /
/// `K.lora.up.weight` (and the older attention processors' `…processor.to_q_lora.down.weight`);
/// PEFT and newer diffusers `K.lora_A.weight` / `K.lora_B.weight`, with `lora_alpha`, `r`,
/// `alpha_pattern` and `use_rslora` from an adapter_config.json when present.
public enum LoRAModules {
    static let downSuffixes = [".lora_down.weight", ".lora.down.weight", "_lora.down.weight", ".lora_A.weight"]
    static let upSuffixes = [".lora_up.weight", ".lora.up.weight", "_lora.up.weight", ".lora_B.weight"]

    public static func read(_ reader: any CheckpointReader, adapterConfig: String? = nil) throws -> [LoRAModule] {
        var downs: [String: String] = [:], ups: [String: String] = [:], alphas: [String: String] = [:]
        for t in reader.tensors {
            if let k = strip(t.name, downSuffixes) { downs[k] = t.name }
            else if let k = strip(t.name, upSuffixes) { ups[k] = t.name }
            else if let k = strip(t.name, [".alpha"]) { alphas[k] = t.name }
            else { throw LoRAError.unknownKey(path: reader.path, key: t.name) }
        }
        let config = try adapterConfig.map { try AdapterConfig.load($0) }
        var modules: [LoRAModule] = []
        for key in Set(downs.keys).union(ups.keys).sorted() {
            guard let down = downs[key] else { throw LoRAError.incompleteModule(path: reader.path, module: key, missing: "down (lora_A)") }
            guard let up = ups[key] else { throw LoRAError.incompleteModule(path: reader.path, module: key, missing: "up (lora_B)") }
            var m = LoRAModule(key: normalized(key), down: down, up: up)
            if let a = alphas[key] {
                let values = try reader.tensor(named: a).doubles()
                guard values.count == 1, values[0].isFinite else {
                    throw LoRAError.badShape(path: reader.path, module: key, reason: "alpha is not one finite number")
                }
                m.alpha = values[0]
            } else if let config {
                let rank = reader.info(named: down)?.shape.first ?? 0
                m.alpha = config.alpha(for: m.key, rank: rank)
                m.rsLoRA = config.rsLoRA
            }
            modules.append(m)
        }
        for key in alphas.keys where downs[key] == nil && ups[key] == nil {
            throw LoRAError.incompleteModule(path: reader.path, module: key, missing: "down or up")
        }
        return modules
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
