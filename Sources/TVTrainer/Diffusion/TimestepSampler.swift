/// Draws the training timesteps of one batch. The trainer calls it once per step with its own
/// generator, so a sampler can keep per-batch decisions (DeMe flips one coin per batch and draws
/// antithetic pairs) without owning randomness.
public protocol TimestepSampler: Sendable {
    /// Fills `timesteps` (the batch size is `timesteps.count`) with values in [0, T).
    func sample(into timesteps: inout [Int], timesteps T: Int, using rng: inout TrainerRandom)
}

/// Independent uniform timesteps over [0, T): plain DDPM training.
public struct UniformTimestepSampler: TimestepSampler {
    public init() {}
    public func sample(into timesteps: inout [Int], timesteps T: Int, using rng: inout TrainerRandom) {
        for i in timesteps.indices { timesteps[i] = rng.int(in: 0..<T) }
    }
}

/// A half-open timestep range [lower, upper) (DeMe's R_i).
public struct TimestepRange: Sendable, Hashable, Codable, CustomStringConvertible {
    public let lower: Int
    public let upper: Int
    public init(lower: Int, upper: Int) {
        precondition(lower < upper, "empty timestep range")
        self.lower = lower
        self.upper = upper
    }
    public func contains(_ t: Int) -> Bool { t >= lower && t < upper }
    public var count: Int { upper - lower }
    public var description: String { "\(lower):\(upper)" }

    /// [0, T) cut into n half-open ranges [i·T/n, (i+1)·T/n) (integer division: when n does not
    /// divide T the ranges differ in size by at most one, the remainder spread among them).
    public static func equalSplit(timesteps T: Int, count n: Int) -> [TimestepRange] {
        precondition(n >= 1 && n <= T)
        return (0..<n).map { i in TimestepRange(lower: i * T / n, upper: (i + 1) * T / n) }
    }
}
