import Foundation
import TVStorage

/// One axis of a sweep grid, parsed from the command line. The one grid grammar of `deme`,
/// `search` and `landscape`:
/// - `lo:hi:N` with N an integer: N evenly spaced values including both ends (`0:1:5` → 0, 0.25,
///   0.5, 0.75, 1; `0:1:11` → 0, 0.1, …, 1). N = 1 gives just `lo`. `lo:hi:n=N` says the same.
/// - `lo:hi:stepS` (or `lo:hi:step=S`): lo, lo+S, … up to hi (hi included when it is reached
///   within 1e-9 of a step): `0:1:step0.1` is the same 11 values as `0:1:11`.
/// - A bare decimal third field (`0:1:0.1`) is refused: it reads as a step to some and as a count
///   to others, so the message says which two spellings to use instead.
/// - `a,b,c`: an explicit list of values (kept in the given order, duplicates rejected).
/// - a single number: one value.
public struct AxisSpec: Sendable, Hashable, Codable, CustomStringConvertible {
    public let values: [Double]
    /// The text it was parsed from (kept for manifests and messages).
    public let text: String

    public init(values: [Double], text: String? = nil) {
        self.values = values
        self.text = text ?? values.map { GridNumber.format($0) }.joined(separator: ",")
    }

    public var description: String { text }

    /// Spacing between neighbouring values (the smallest positive gap), or nil for one value.
    public var spacing: Double? {
        let sorted = values.sorted()
        var gap: Double? = nil
        for (a, b) in zip(sorted, sorted.dropFirst()) where b > a { gap = min(gap ?? .infinity, b - a) }
        return gap
    }

    /// The smallest and largest value: the box that sampling strategies and refinement stay in.
    public var lowerBound: Double { values.min()! }
    public var upperBound: Double { values.max()! }

    public static func parse(_ text: String) throws(GridError) -> AxisSpec {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.contains(",") {
            let values = try t.split(separator: ",", omittingEmptySubsequences: false).map { part throws(GridError) -> Double in
                try number(String(part), in: text)
            }
            guard Set(values).count == values.count else { throw .invalid(text, "duplicate values in the list") }
            return AxisSpec(values: values, text: t)
        }
        let fields = t.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch fields.count {
        case 1:
            return AxisSpec(values: [try number(fields[0], in: text)], text: t)
        case 3:
            let lo = try number(fields[0], in: text), hi = try number(fields[1], in: text)
            guard hi >= lo else { throw .invalid(text, "hi (\(fields[1])) is below lo (\(fields[0]))") }
            var third = fields[2].trimmingCharacters(in: .whitespaces)
            var isCount = true
            if third.hasPrefix("n=") { third.removeFirst(2) }
            else if third.hasPrefix("step=") { third.removeFirst(5); isCount = false }
            else if third.hasPrefix("step") { third.removeFirst(4); isCount = false }
            else if Int(third) == nil, let v = Double(third) {
                let steps = v > 0 && v.isFinite ? ((hi - lo) / v + 1e-9).rounded(.down) : .infinity
                let count = steps < 1e6 ? " (\(Int(steps) + 1) values)" : ""
                throw .invalid(text, "'\(fields[2])' is ambiguous: write \(fields[0]):\(fields[1]):step\(fields[2]) for a step of \(fields[2])"
                               + count + ", or \(fields[0]):\(fields[1]):N for N evenly spaced values")
            }
            if isCount {
                guard let n = Int(third), n >= 1, n <= 1_000_000 else {
                    throw .invalid(text, "the point count '\(fields[2])' must be an integer from 1 to 1000000")
                }
                let values = n == 1 ? [lo] : (0..<n).map { GridNumber.clean(lo + (hi - lo) * Double($0) / Double(n - 1), scale: max(abs(lo), abs(hi))) }
                return AxisSpec(values: values, text: t)
            }
            let step = try number(third, in: text)
            guard step > 0, step.isFinite else { throw .invalid(text, "the step must be positive") }
            let count = Int(((hi - lo) / step + 1e-9).rounded(.down)) + 1
            guard count <= 1_000_000 else { throw .invalid(text, "more than 1000000 points") }
            return AxisSpec(values: (0..<count).map { GridNumber.clean(lo + step * Double($0), scale: max(abs(lo), abs(hi))) }, text: t)
        default:
            throw .invalid(text, "expected lo:hi:N (N values), lo:hi:stepS (step S), a comma list or one number")
        }
    }

    private static func number(_ s: String, in text: String) throws(GridError) -> Double {
        guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite else {
            throw .invalid(text, "'\(s)' is not a finite number")
        }
        return v
    }
}

/// Number formatting and cleanup shared by grids, ids and outputs.
public enum GridNumber {
    /// Rounds away binary noise (0.30000000000000004 → 0.3) by keeping 12 significant digits.
    /// With `scale` (the axis' magnitude), values below scale·1e-12 also become exactly 0, so
    /// -0.2 + 0.05·4 is 0 and not -2.8e-17.
    public static func clean(_ v: Double, scale: Double = 0) -> Double {
        guard v != 0, v.isFinite else { return v == 0 ? 0 : v }
        if abs(v) < abs(scale) * 1e-12 { return 0 }
        return Double(String(format: "%.12g", v)) ?? v
    }

    /// Shortest text that reads back to the same Double ("0.1", "-0.2", "1").
    public static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}

/// Errors in grid and shard specifications.
public enum GridError: BadInputError, Equatable {
    case invalid(String, String)
    case invalidShard(String, String)
    case tooManyPoints(Int)

    public var description: String {
        switch self {
        case let .invalid(spec, why): return "grid '\(spec)': \(why)"
        case let .invalidShard(spec, why): return "shard '\(spec)': \(why)"
        case let .tooManyPoints(n): return "the grid has \(n) points (more than 10000000); use fewer values per axis"
        }
    }
}
