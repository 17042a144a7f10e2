import TVTrainer

/// DeMe's timestep sampling for finetuning on one range (deme.md, "Probabilistic sampling"):
/// once per batch a coin with probability `p` picks the whole schedule [0, T), otherwise the
/// model's own range R_i; within the chosen range the timesteps come in antithetic pairs, exactly as
/// the official code: draw k = B/2 + 1 values t ~ U[lo, hi), append lo + hi - 1 - t, truncate to B.
public struct DeMeTimestepSampler: Sendable, Equatable {
    public let range: TimestepRange
    public let total: Int
    /// Probability of drawing the batch from the whole [0, T).
    public let globalProbability: Double

    public init(range: TimestepRange, total: Int, globalProbability p: Double) throws(DeMeError) {
        guard range.upper <= total else { throw .invalidArgument("range \(range) exceeds the \(total) timesteps of the schedule") }
        guard p >= 0, p <= 1 else { throw .invalidArgument("--p \(p) must lie in [0, 1]") }
        self.range = range
        self.total = total
        self.globalProbability = p
    }

    /// One batch of `batch` timesteps, and whether the coin chose the whole schedule.
    public func sample<G: RandomNumberGenerator>(batch: Int, using rng: inout G) -> (timesteps: [Int], global: Bool) {
        // The coin is drawn even when p is 0 or 1 so the random stream does not depend on p's value.
        let global = Double.random(in: 0..<1, using: &rng) < globalProbability
        let (lo, hi) = global ? (0, total) : (range.lower, range.upper)
        return (Self.antitheticPairs(count: batch, lo: lo, hi: hi, using: &rng), global)
    }

    /// k = B/2 + 1 uniform draws from [lo, hi), followed by their mirrors lo + hi - 1 - t, truncated
    /// to B. Element j (j < B - k) and element k + j are a pair.
    public static func antitheticPairs<G: RandomNumberGenerator>(count b: Int, lo: Int, hi: Int, using rng: inout G) -> [Int] {
        guard b > 0 else { return [] }
        let k = b / 2 + 1
        var t = [Int]()
        t.reserveCapacity(2 * k)
        for _ in 0..<k { t.append(Int.random(in: lo..<hi, using: &rng)) }
        for j in 0..<k { t.append(lo + hi - 1 - t[j]) }
        return Array(t.prefix(b))
    }
}
