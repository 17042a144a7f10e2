import Foundation
import TVStorage
import Yams

/// A merge described in a file: the common subset of mergekit's YAML (JSON works too):
///
///     merge_method: ties                 # any registered method; default task_arithmetic
///     base_model: base.safetensors
///     models:
///       - model: ft1.safetensors
///         parameters: {weight: 0.5, density: 0.4}
///       - model: ft2.safetensors
///         parameters: {weight: 0.5, density: 0.4}
///     parameters: {lambda: 1.0, normalize: true, trim: per_tensor}
///     dtype: float16                     # mergekit: merge dtype; here the output dtype unless out_dtype is set
///     out_dtype: bfloat16
///     # tvtool extensions: rules (as in a rules file), seed, keys, mismatch, task_vectors,
///     # block_weights: GRAD_V   (SD 1.x MBW: a preset or 25/26 numbers, as a list or a
///     #   comma-separated string; for all models, or per model as models[i].block_weights)
///
/// Global parameter values may be mergekit filter lists ([{filter: "down_blocks", value: 0.2},
/// {value: 0.5}]), which become substring rules. Per-model filter lists are not supported (use rules).
public struct RecipeFile {
    public var method = "task_arithmetic"
    public var base: String
    public var models: [String]
    public var parameters = MergeParameters()
    public var outDType: DType?
    public var precision: ComputePrecision?
    public var seed: UInt64?
    public var keys: KeyPolicy?
    public var mismatch: MismatchPolicy?
    public var taskVectors = false
    /// MBW block weights (`BlockWeights`): one list for all models or one per model; nil: none.
    public var blockWeights: [BlockWeightList]?

    public static func load(_ path: String) throws -> RecipeFile {
        let root = try YAMLDocument.load(path, what: "recipe")
        guard let d = root as? [String: Any] else { throw EngineError.badParameter(source: path, reason: "a recipe must be a mapping") }
        return try parse(d, source: path, relativeTo: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    static func parse(_ d: [String: Any], source: String, relativeTo dir: String) throws -> RecipeFile {
        func bad(_ r: String) -> EngineError { .badParameter(source: source, reason: r) }
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : (dir as NSString).appendingPathComponent(p) }
        guard let base = d["base_model"] as? String else { throw bad("needs base_model") }
        guard let list = d["models"] as? [Any], !list.isEmpty else { throw bad("needs a non-empty models list") }
        var models: [String] = []
        var perModel: [String: [Double?]] = [:]
        var perModelBlocks: [BlockWeightList?] = []
        for (i, item) in list.enumerated() {
            let entry: [String: Any]
            if let s = item as? String { entry = ["model": s] } else if let e = item as? [String: Any] { entry = e } else { throw bad("models[\(i)] must be a mapping") }
            guard let path = entry["model"] as? String else { throw bad("models[\(i)] needs 'model'") }
            models.append(resolve(path))
            perModelBlocks.append(try entry["block_weights"].map { try blockList($0, source: "\(source): models[\(i)].block_weights") })
            for (key, value) in (entry["parameters"] as? [String: Any]) ?? [:] {
                guard let x = RulesFile.number(value) else { throw bad("models[\(i)].parameters.\(key) must be a number (per-model filter lists are not supported; use rules)") }
                perModel[key, default: Array(repeating: nil, count: list.count)][i] = x
            }
        }
        var recipe = RecipeFile(base: resolve(base), models: models)
        if let m = d["merge_method"] as? String { recipe.method = m }
        var global: [String: ParameterValue] = [:]
        var rules: [TensorRule] = []
        for (key, value) in (d["parameters"] as? [String: Any]) ?? [:] {
            if ["trim", "rescale_norm"].contains(key), let s = value as? String { recipe.parameters.options[key] = s; continue }
            if let filters = value as? [[String: Any]], filters.contains(where: { $0["value"] != nil }) {
                for f in filters {
                    guard let v = f["value"].flatMap(RulesFile.number) else { throw bad("parameters.\(key): each entry needs a numeric value") }
                    if let filter = f["filter"] as? String { rules.append(TensorRule(pattern: .substring(filter), values: [key: .scalar(v)])) } else { global[key] = .scalar(v) }
                }
                continue
            }
            global[key] = try RulesFile.parameterValue(value, key: key, source: "\(source): parameters")
        }
        for (key, values) in perModel {
            // Models without this parameter take the global value (or the method default when none).
            let fallback: Double?
            if case .scalar(let g)? = global[key] { fallback = g } else { fallback = nil }
            let filled = values.map { $0 ?? fallback }
            guard filled.allSatisfy({ $0 != nil }) else { throw bad("parameter '\(key)' is set for some models only") }
            global[key] = .perModel(filled.map { $0! })
        }
        if let r = d["rules"] as? [Any] {
            rules += try r.enumerated().map { try RulesFile.rule($1, source: "\(source): rules[\($0)]") }
        }
        recipe.parameters.global = global
        recipe.parameters.rules = rules
        if let s = d["out_dtype"] as? String ?? d["dtype"] as? String {
            if ["float64", "f64"].contains(s.lowercased()) && d["out_dtype"] == nil {
                recipe.precision = .f64
            }
            guard let t = DType(userName: s), t.supportsArithmetic else { throw bad("unknown dtype '\(s)'") }
            recipe.outDType = t
        }
        if let s = d["seed"] { recipe.seed = try seed(s, bad: bad) }
        if let k = d["keys"] as? String { guard let p = KeyPolicy(rawValue: k) else { throw bad("keys must be error, intersection or union") }; recipe.keys = p }
        if let k = d["mismatch"] as? String { guard let p = MismatchPolicy(rawValue: k) else { throw bad("mismatch must be error or skip") }; recipe.mismatch = p }
        if let t = d["task_vectors"] as? Bool { recipe.taskVectors = t }
        if let b = d["block_weights"] {
            guard perModelBlocks.allSatisfy({ $0 == nil }) else { throw bad("give block_weights once at the top or per model, not both") }
            recipe.blockWeights = [try blockList(b, source: "\(source): block_weights")]
        } else if perModelBlocks.contains(where: { $0 != nil }) {
            guard perModelBlocks.allSatisfy({ $0 != nil }) else { throw bad("block_weights is set for some models only; give it for every model or once at the top") }
            recipe.blockWeights = perModelBlocks.map { $0! }
        }
        return recipe
    }

    /// A block-weight list from YAML: a preset name, a comma-separated string, or a list of numbers.
    static func blockList(_ value: Any, source: String) throws -> BlockWeightList {
        if let s = value as? String { return try BlockWeightList.parse(s, source: source) }
        if let list = value as? [Any] {
            let numbers = try list.map { v -> String in
                guard let x = RulesFile.number(v) else { throw EngineError.badParameter(source: source, reason: "'\(v)' is not a number") }
                return "\(x)"
            }
            return try BlockWeightList.parse(numbers.joined(separator: ","), source: source)
        }
        if let x = RulesFile.number(value) { return try BlockWeightList.parse("\(x)", source: source) }
        throw EngineError.badParameter(source: source, reason: "expected a preset name, a list of 25 or 26 numbers, or a comma-separated string")
    }

    /// A seed is a whole number in 0...2^64-1; anything else (negative, fractional, NaN, beyond
    /// UInt64, text) is an error rather than a trap or a silent 0.
    static func seed(_ value: Any, bad: (String) -> EngineError) throws -> UInt64 {
        switch value {
        case let i as Int where i >= 0: return UInt64(i)
        case let s as String: if let u = UInt64(s) { return u }
        case let d as Double where d.isFinite && d >= 0 && d < 18446744073709551616.0 && d.rounded() == d:
            return UInt64(d)
        default: break
        }
        throw bad("seed must be a whole number from 0 to \(UInt64.max), got \(String(describing: value).prefix(40))")
    }
}
