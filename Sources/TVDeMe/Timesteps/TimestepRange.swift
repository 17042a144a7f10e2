import TVTrainer

/// Checked construction of the trainer's `TimestepRange` (half-open [lower, upper)) from user
/// input, so a bad `--t-range` is an error message, never a trap.
extension TimestepRange {
    /// Parses "lo:hi" (half-open), requiring 0 <= lo < hi.
    public static func parse(_ text: String) throws(DeMeError) -> TimestepRange {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[1]) else {
            throw .invalidArgument("timestep range '\(text)' is not of the form lo:hi (e.g. 0:250)")
        }
        guard lo >= 0, hi > lo else { throw .invalidArgument("timestep range \(text) must satisfy 0 <= lo < hi") }
        return TimestepRange(lower: lo, upper: hi)
    }

    /// [0, T) cut into n equal half-open ranges R_i = [(i-1)T/n, iT/n) (deme.md), checked.
    public static func equalRanges(count n: Int, total t: Int) throws(DeMeError) -> [TimestepRange] {
        guard n >= 1, t >= n else { throw .invalidArgument("cannot cut \(t) timesteps into \(n) ranges") }
        return equalSplit(timesteps: t, count: n)
    }

    /// Interval notation for tables.
    public var label: String { "[\(lower),\(upper))" }
}
