import Foundation

/// The candidate values of one merge weight: an arithmetic range "lo:hi:step" (hi included when
/// it lies on the step) or an explicit list "0,0.1,0.25".
public struct WeightGrid: Sendable, Equatable, CustomStringConvertible {
    /// Sorted, distinct values.
    public let values: [Double]

    public init(values: [Double]) throws(DeMeError) {
        let sorted = Array(Set(values)).sorted()
        guard !sorted.isEmpty, sorted.allSatisfy({ $0.isFinite }) else {
            throw .invalidArgument("a weight grid needs at least one finite value")
        }
        self.values = sorted
    }

    /// For literal grids known to be sorted, distinct and non-empty.
    init(sortedDistinct values: [Double]) { self.values = values }

    public init(parsing text: String) throws(DeMeError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.contains(":") {
            let p = trimmed.split(separator: ":", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard p.count == 3, let lo = p[0], let hi = p[1], let step = p[2], step > 0, hi >= lo,
                  lo.isFinite, hi.isFinite else {
                throw .invalidArgument("grid '\(text)' is not lo:hi:step with step > 0 and hi >= lo (e.g. 0:1:0.1)")
            }
            let n = Int(((hi - lo) / step + 1e-9).rounded(.down))
            guard n < 100_000 else { throw .invalidArgument("grid '\(text)' has more than 100000 values") }
            // Values are computed as lo + i*step and rounded to 1e-9 so 0.1-steps print as 0.3, not 0.30000000000000004.
            try self.init(values: (0...n).map { ((lo + Double($0) * step) * 1e9).rounded() / 1e9 })
        } else {
            var vals: [Double] = []
            for item in trimmed.split(separator: ",") {
                guard let v = Double(item.trimmingCharacters(in: .whitespaces)) else {
                    throw .invalidArgument("grid '\(text)': '\(item)' is not a number")
                }
                vals.append(v)
            }
            try self.init(values: vals)
        }
    }

    public var lowerBound: Double { values.first! }
    public var upperBound: Double { values.last! }
    /// The smallest gap between neighbouring values (0 for a single value).
    public var spacing: Double {
        guard values.count > 1 else { return 0 }
        return zip(values.dropFirst(), values).map { $0 - $1 }.min()!
    }

    public var description: String { values.map { Self.format($0) }.joined(separator: ",") }

    static func format(_ v: Double) -> String {
        let r = (v * 1e6).rounded() / 1e6
        return r == r.rounded() ? String(format: "%.1f", r) : String(r)
    }
}
