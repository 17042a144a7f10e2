/// A parameter value: one number for every model, or one per model (in input order).
public enum ParameterValue: Sendable, Equatable {
    case scalar(Double)
    case perModel([Double])

    func forModels(_ count: Int, key: String, source: String) throws -> [Double] {
        switch self {
        case .scalar(let v): return Array(repeating: v, count: count)
        case .perModel(let vs):
            guard vs.count == count else {
                throw EngineError.badParameter(source: source, reason: "'\(key)' has \(vs.count) values for \(count) models")
            }
            return vs
        }
    }

    var jsonValue: Any {
        switch self {
        case .scalar(let v): return v
        case .perModel(let vs): return vs
        }
    }
}

/// Parameters overridden for tensors whose names match `pattern`.
public struct TensorRule: Sendable, Equatable {
    public var pattern: NamePattern
    public var values: [String: ParameterValue]
    /// How --explain names a generated rule (e.g. "block IN04 (--block-weights)"); nil: "rule N (pattern)".
    public var label: String?

    public init(pattern: NamePattern, values: [String: ParameterValue], label: String? = nil) {
        self.pattern = pattern
        self.values = values
        self.label = label
    }
}

/// A merge's parameters: global values (per model or shared), overridden per tensor by rules.
///
/// Resolution for (key, tensor): the first rule, in order, whose pattern matches the tensor name
/// and that sets `key`; otherwise the global value; otherwise the method's default. So a rule that
/// sets only `weight` does not hide a later rule's `density`.
public struct MergeParameters: Sendable {
    public var global: [String: ParameterValue]
    public var rules: [TensorRule]
    /// Non-numeric method options, e.g. TIES `trim: global`.
    public var options: [String: String]

    public init(global: [String: ParameterValue] = [:], rules: [TensorRule] = [], options: [String: String] = [:]) {
        self.global = global
        self.rules = rules
        self.options = options
    }

    public func value(_ key: String, tensor: String) -> ParameterValue? {
        for rule in rules where rule.values[key] != nil && rule.pattern.matches(tensor) {
            return rule.values[key]
        }
        return global[key]
    }

    /// Every key used anywhere (to reject parameters a method does not know).
    public var allKeys: Set<String> {
        var keys = Set(global.keys)
        for r in rules { keys.formUnion(r.values.keys) }
        return keys
    }

    /// The parameters as JSON-compatible values for the provenance record.
    public var jsonValue: [String: Any] {
        var out: [String: Any] = [:]
        out["global"] = global.mapValues(\.jsonValue)
        if !options.isEmpty { out["options"] = options }
        out["rules"] = rules.map { r -> [String: Any] in
            ["match": r.pattern.description, "values": r.values.mapValues(\.jsonValue)]
        }
        return out
    }
}
