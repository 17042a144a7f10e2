import Foundation
import Yams

/// Per-tensor parameter rules from a JSON or YAML file (JSON is read as YAML):
///
///     rules:                                 # or a top-level list
///       - match: "down_blocks.*"             # glob (`*` also crosses dots)
///         weight: [0.1, 0.1, 0.2, 0.5]       # one value per model …
///       - regex: "^mid_block\\."             # … or a regular expression
///         weight: 0.3                        # … or one value for every model
///       - contains: "up_blocks.3"            # substring (mergekit's `filter:`)
///         density: 0.5
///       - block: IN04                        # an SD 1.x UNet block (docs/block-weights.md)
///         weight: 0.2
///
/// Rules apply in file order; for each parameter the first matching rule that sets it wins.
public enum RulesFile {
    public static func load(_ path: String) throws -> [TensorRule] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw EngineError.unreadableFile(path: path, reason: "cannot read rules file: \(error.localizedDescription)")
        }
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch {
            throw EngineError.unreadableFile(path: path, reason: "not valid YAML/JSON: \(error)")
        }
        let list: [Any]
        if let l = root as? [Any] { list = l } else if let d = root as? [String: Any], let l = d["rules"] as? [Any] { list = l } else {
            throw EngineError.badParameter(source: path, reason: "expected a list of rules or {rules: [...]}")
        }
        return try list.enumerated().map { i, item in try rule(item, source: "\(path): rule \(i + 1)") }
    }

    static func rule(_ item: Any, source: String) throws -> TensorRule {
        guard let d = item as? [String: Any] else { throw EngineError.badParameter(source: source, reason: "a rule must be a mapping") }
        var pattern: NamePattern?
        var values: [String: ParameterValue] = [:]
        for (key, value) in d {
            switch key {
            case "match", "glob": pattern = .glob(try string(value, key: key, source: source))
            case "regex": pattern = .regex(try string(value, key: key, source: source))
            case "contains", "filter": pattern = .substring(try string(value, key: key, source: source))
            case "block": pattern = .block(try string(value, key: key, source: source).uppercased())
            default: values[key] = try parameterValue(value, key: key, source: source)
            }
        }
        guard let pattern else { throw EngineError.badParameter(source: source, reason: "needs one of match/regex/contains/block") }
        try pattern.validate(source: source)
        return TensorRule(pattern: pattern, values: values)
    }

    static func string(_ v: Any, key: String, source: String) throws -> String {
        guard let s = v as? String else { throw EngineError.badParameter(source: source, reason: "'\(key)' must be a string") }
        return s
    }

    /// A number, a boolean (1/0) or a list of numbers.
    static func parameterValue(_ v: Any, key: String, source: String) throws -> ParameterValue {
        if let x = number(v) { return .scalar(x) }
        if let list = v as? [Any] {
            let xs = list.compactMap(number)
            if xs.count == list.count { return .perModel(xs) }
        }
        throw EngineError.badParameter(source: source, reason: "'\(key)' must be a number or a list of numbers")
    }

    static func number(_ v: Any) -> Double? {
        switch v {
        case let b as Bool: return b ? 1 : 0
        case let i as Int: return Double(i)
        case let d as Double: return d
        case let s as String: return Double(s)
        default: return nil
        }
    }
}
