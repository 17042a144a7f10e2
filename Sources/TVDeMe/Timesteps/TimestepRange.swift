/// A half-open range of diffusion timesteps [lo, hi): DeMe's unit of decoupling (deme.md).
public struct TimestepRange: Hashable, Codable, Sendable, CustomStringConvertible {
    public let lo: Int
    public let hi: Int

    public init(lo: Int, hi: Int) throws(DeMeError) {
        guard lo >= 0, hi > lo else { throw .invalidArgument("timestep range \(lo):\(hi) must satisfy 0 <= lo < hi") }
        self.init(uncheckedLo: lo, hi: hi)
    }

    /// For bounds already known to satisfy 0 <= lo < hi.
    init(uncheckedLo lo: Int, hi: Int) {
        self.lo = lo
        self.hi = hi
    }

    /// The whole schedule [0, T).
    public static func all(_ total: Int) throws(DeMeError) -> TimestepRange { try TimestepRange(lo: 0, hi: total) }

    /// Parses "lo:hi" (half-open).
    public init(parsing text: String) throws(DeMeError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[1]) else {
            throw .invalidArgument("timestep range '\(text)' is not of the form lo:hi (e.g. 0:250)")
        }
        try self.init(lo: lo, hi: hi)
    }

    public var count: Int { hi - lo }
    public func contains(_ t: Int) -> Bool { t >= lo && t < hi }
    public var description: String { "\(lo):\(hi)" }
    /// A label for tables, in interval notation.
    public var label: String { "[\(lo),\(hi))" }

    /// [0, T) cut into `count` equal half-open ranges R_i = [(i-1)T/N, iT/N). When N does not
    /// divide T the bounds are rounded down, so the ranges still tile [0, T) without gaps.
    public static func equalRanges(count n: Int, total t: Int) throws(DeMeError) -> [TimestepRange] {
        guard n >= 1, t >= n else { throw .invalidArgument("cannot cut \(t) timesteps into \(n) ranges") }
        var out: [TimestepRange] = []
        for i in 0..<n { out.append(try TimestepRange(lo: i * t / n, hi: (i + 1) * t / n)) }
        return out
    }

    /// The index of the range in `ranges` that holds `t`, or nil.
    public static func index(of t: Int, in ranges: [TimestepRange]) -> Int? {
        ranges.firstIndex { $0.contains(t) }
    }
}
