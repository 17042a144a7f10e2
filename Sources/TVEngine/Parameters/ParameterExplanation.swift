import Foundation

/// Which value of each parameter a merge gives each tensor, and where it comes from (a rule, the
/// global parameters, or the method's default): `tvtool merge --explain`, and the warning for
/// rules that match no tensor.
public struct ParameterExplanation: Sendable {
    public struct Resolved: Sendable, Equatable {
        public var parameter: String
        /// Numbers (one, or one per model) or the choice word.
        public var value: Value
        /// "rule N (pattern)", "global" or "default".
        public var source: String
    }

    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case number(Double)
        case perModel([Double])
        case word(String)
        case none

        public var description: String {
            switch self {
            case .number(let v): return Self.text(v)
            case .perModel(let vs): return "[" + vs.map(Self.text).joined(separator: ", ") + "]"
            case .word(let w): return w
            case .none: return "(computed)"
            }
        }

        public var jsonValue: Any {
            switch self {
            case .number(let v): return v
            case .perModel(let vs): return vs
            case .word(let w): return w
            case .none: return NSNull()
            }
        }

        private static func text(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
    }

    public var tensor: String
    public var parameters: [Resolved]

    /// One explanation per tensor in `tensorNames`, in that order.
    public static func explain(method: any MergeMethod, parameters p: MergeParameters, tensorNames: [String]) -> [ParameterExplanation] {
        tensorNames.map { name in
            ParameterExplanation(tensor: name, parameters: method.parameters.map { d in
                if !d.isNumeric {
                    if let w = p.options[d.name] { return Resolved(parameter: d.name, value: .word(w), source: "global") }
                    return Resolved(parameter: d.name, value: d.defaultChoice.map(Value.word) ?? .none, source: "default")
                }
                if let i = p.rules.firstIndex(where: { $0.values[d.name] != nil && $0.pattern.matches(name) }) {
                    return Resolved(parameter: d.name, value: value(p.rules[i].values[d.name]!), source: ruleLabel(i, p.rules[i]))
                }
                if let v = p.global[d.name] { return Resolved(parameter: d.name, value: value(v), source: "global") }
                return Resolved(parameter: d.name, value: d.defaultValue.map(Value.number) ?? .none, source: "default")
            })
        }
    }

    /// Indices of the rules whose pattern matches none of `tensorNames`.
    public static func unmatchedRules(_ p: MergeParameters, tensorNames: [String]) -> [Int] {
        p.rules.indices.filter { i in !tensorNames.contains { p.rules[i].pattern.matches($0) } }
    }

    /// "rule 2 (glob:down.*)", as in validation messages.
    public static func ruleLabel(_ index: Int, _ rule: TensorRule) -> String { rule.label ?? "rule \(index + 1) (\(rule.pattern))" }

    /// The floating-point tensors of the inputs (the ones a merge computes), base order first.
    public static func computedTensorNames(_ inputs: MergeInputs) -> [String] {
        var seen = Set<String>(), names: [String] = []
        for reader in [inputs.base] + inputs.models {
            for t in reader.tensors where t.dtype.isFloatingPoint && seen.insert(t.name).inserted { names.append(t.name) }
        }
        return names
    }

    private static func value(_ v: ParameterValue) -> Value {
        switch v {
        case .scalar(let x): return .number(x)
        case .perModel(let xs): return .perModel(xs)
        }
    }
}
