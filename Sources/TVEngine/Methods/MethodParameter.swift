/// One parameter a merge method reads, as a typed definition: `merge --help`, `merge
/// --list-methods`, up-front validation (ranges, finiteness) and the per-tensor defaults all come
/// from it, so a method states each of these once.
public struct MethodParameter: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// One number for all models (lambda, t).
        case number
        /// One number, or one per model in input order (weight, density).
        case perModelNumber
        /// 0 (off) or 1 (on).
        case flag
        /// A word from a fixed list, given as a method option (TIES `trim`).
        case choice([String])

        public var label: String {
            switch self {
            case .number: return "number"
            case .perModelNumber: return "per-model"
            case .flag: return "0|1"
            case .choice(let words): return words.joined(separator: "|")
            }
        }
    }

    public let name: String
    public let kind: Kind
    /// The value used when neither a rule nor the global parameters set it (numeric kinds).
    public let defaultValue: Double?
    /// The default of a choice.
    public let defaultChoice: String?
    public let range: ValueRange
    public let doc: String

    public init(_ name: String, _ kind: Kind, default value: Double?, range: ValueRange = .any, doc: String) {
        self.name = name; self.kind = kind; self.defaultValue = value; self.defaultChoice = nil
        self.range = kind == .flag ? .closed(0, 1) : range; self.doc = doc
    }

    public init(choice name: String, _ words: [String], default word: String, doc: String) {
        self.name = name; self.kind = .choice(words); self.defaultValue = nil; self.defaultChoice = word
        self.range = .any; self.doc = doc
    }

    /// The default as shown in tables ("-" when the method computes it).
    public var defaultText: String {
        if let defaultChoice { return defaultChoice }
        guard let v = defaultValue else { return "-" }
        return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }

    /// Numeric parameters live in `MergeParameters.global`/rules; choices in `options`.
    public var isNumeric: Bool { if case .choice = kind { return false } else { return true } }

    /// Checks one value from `source` (an option, a rule, a recipe entry) for method `method`.
    public func check(_ value: Double, method: String, source: String) throws {
        guard value.isFinite else {
            throw EngineError.badParameter(source: source, reason: "\(name) = \(value) is not a finite number")
        }
        if kind == .flag && value != 0 && value != 1 {
            throw EngineError.badParameter(source: source, reason: "\(method) \(name) is 0 or 1, got \(value)")
        }
        guard range.contains(value) else {
            throw EngineError.badParameter(source: source, reason: "\(method) \(name) \(value) is outside \(range)")
        }
    }

    // Definitions shared by several methods (a method may declare its own instead).
    public static let weight = MethodParameter("weight", .perModelNumber, default: 1, doc: "per-model weight w_i (--weights)")
    public static let lambda = MethodParameter("lambda", .number, default: 1, doc: "scale of the merged task vector")
    public static let t = MethodParameter("t", .number, default: 0.5, doc: "interpolation factor (0 = base, 1 = model; outside [0, 1] extrapolates)")
    public static func normalize(default on: Bool, doc: String) -> MethodParameter {
        MethodParameter("normalize", .flag, default: on ? 1 : 0, doc: doc)
    }
    public static func density(default value: Double, range: ValueRange, doc: String) -> MethodParameter {
        MethodParameter("density", .perModelNumber, default: value, range: range, doc: doc)
    }

    /// The transitional definition of a method that still lists only `parameterNames`.
    static func untyped(_ name: String) -> MethodParameter {
        MethodParameter(name, .perModelNumber, default: nil, doc: "(no typed definition yet)")
    }
}

/// An interval of valid values, each end open, closed or absent.
public struct ValueRange: Sendable, Equatable, CustomStringConvertible {
    public var lower: Double?
    public var lowerInclusive: Bool
    public var upper: Double?
    public var upperInclusive: Bool

    public init(lower: Double?, lowerInclusive: Bool = true, upper: Double?, upperInclusive: Bool = true) {
        self.lower = lower; self.lowerInclusive = lowerInclusive; self.upper = upper; self.upperInclusive = upperInclusive
    }

    public static let any = ValueRange(lower: nil, upper: nil)
    public static let nonNegative = ValueRange(lower: 0, upper: nil)
    public static func closed(_ a: Double, _ b: Double) -> ValueRange { ValueRange(lower: a, upper: b) }
    /// (a, b]
    public static func leftOpen(_ a: Double, _ b: Double) -> ValueRange { ValueRange(lower: a, lowerInclusive: false, upper: b) }
    /// [a, b)
    public static func rightOpen(_ a: Double, _ b: Double) -> ValueRange { ValueRange(lower: a, upper: b, upperInclusive: false) }

    public func contains(_ x: Double) -> Bool {
        if let lower, lowerInclusive ? x < lower : x <= lower { return false }
        if let upper, upperInclusive ? x > upper : x >= upper { return false }
        return true
    }

    public var description: String {
        switch (lower, upper) {
        case (nil, nil): return "any"
        case let (l?, nil): return (lowerInclusive ? ">= " : "> ") + Self.text(l)
        case let (nil, u?): return (upperInclusive ? "<= " : "< ") + Self.text(u)
        case let (l?, u?): return (lowerInclusive ? "[" : "(") + Self.text(l) + ", " + Self.text(u) + (upperInclusive ? "]" : ")")
        }
    }

    private static func text(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}

extension TensorContext {
    /// A per-model parameter resolved for this tensor, defaulting to the definition's default.
    public func perModel(_ p: MethodParameter) throws -> [Double] { try perModel(p.name, default: p.defaultValue ?? 0) }

    /// A single-valued parameter resolved for this tensor, defaulting to the definition's default.
    public func scalar(_ p: MethodParameter) throws -> Double { try scalar(p.name, default: p.defaultValue ?? 0) }

    /// A flag parameter (0/1) resolved for this tensor.
    public func flag(_ p: MethodParameter) throws -> Bool { try scalar(p) != 0 }
}
