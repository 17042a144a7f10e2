import TVStorage

/// Bad input met by the engine: mismatched checkpoints, bad parameters, unknown methods.
/// Each description is one line naming the file and tensor where there is one.
public enum EngineError: BadInputError, UsageClassifiedError, Equatable {
    case missingKeys(tensor: String, presentIn: String, missingFrom: String, more: Int)
    case shapeMismatch(tensor: String, path: String, shape: [Int], expected: [Int])
    case dtypeMismatch(tensor: String, path: String, dtype: DType, expected: DType)
    case unknownMethod(String, known: [String])
    case badParameter(source: String, reason: String)
    /// A rules or recipe file that cannot be read or parsed (bad input, not a usage mistake).
    case unreadableFile(path: String, reason: String)
    case unknownParameter(method: String, key: String, known: [String])
    case modelCount(method: String, count: Int, needs: String)
    case notFinite(tensor: String, what: String)
    case notIdentityShaped(tensor: String, path: String, shape: [Int])
    case interrupted

    /// Method and parameter errors are the user's (exit 1); checkpoint errors are bad input (2).
    public var isUsageMistake: Bool {
        switch self {
        case .unknownMethod, .badParameter, .unknownParameter, .modelCount: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case let .missingKeys(tensor, present, missing, more):
            let extra = more > 0 ? " (and \(more) more tensors)" : ""
            return "\(missing): no tensor '\(tensor)', which \(present) has\(extra); use --keys intersection or --keys union to merge anyway"
        case let .shapeMismatch(tensor, path, shape, expected):
            return "\(path): tensor '\(tensor)' has shape \(Shape.describe(shape)), the base has \(Shape.describe(expected)); use --mismatch skip to keep the base's value"
        case let .dtypeMismatch(tensor, path, dtype, expected):
            return "\(path): tensor '\(tensor)' is \(dtype.rawValue), the base's is \(expected.rawValue); use --mismatch skip to keep the base's value"
        case let .unknownMethod(name, known):
            return "unknown merge method '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .badParameter(source, reason), let .unreadableFile(source, reason):
            return "\(source): \(reason)"
        case let .unknownParameter(method, key, known):
            return "merge method \(method) has no parameter '\(key)' (it takes: \(known.joined(separator: ", ")))"
        case let .modelCount(method, count, needs):
            return "merge method \(method) needs \(needs), got \(count)"
        case let .notFinite(tensor, what):
            return "tensor '\(tensor)': \(what)"
        case let .notIdentityShaped(tensor, path, shape):
            return "\(path): tensor '\(tensor)' is missing from the base and has shape \(Shape.describe(shape)), which has no identity ([C,C] or [C,C,1,1]); use --missing-in-base zero or --keys union/intersection"
        case .interrupted:
            return "interrupted: nothing was written"
        }
    }
}
