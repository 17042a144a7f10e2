import Foundation
import TVTrainer

/// A paired comparison of two models on the same evaluation items (same images, timesteps and
/// noise): the mean of the per-item differences a_j - b_j and its standard error over items.
/// Pairing removes the item-to-item variance that both models share, which is most of it.
public struct PairedComparison: Codable, Sendable, Equatable {
    /// mean(a) - mean(b); negative means `a` has the lower error.
    public let meanDifference: Double
    /// Standard error of the mean difference: sd(a - b) / sqrt(n), with the n-1 sample variance.
    public let standardError: Double
    public let count: Int

    public init(_ a: [Double], _ b: [Double]) throws(DeMeError) {
        guard a.count == b.count else {
            throw .evaluationFailed("paired comparison of \(a.count) against \(b.count) items")
        }
        guard a.count >= 2 else { throw .evaluationFailed("a paired comparison needs at least 2 items, got \(a.count)") }
        // The arithmetic is the trainer's PairedDifference; this type adds the checked inputs,
        // the count and the verdicts.
        let d = PairedDifference(a, b)
        meanDifference = d.mean
        standardError = d.standardError
        count = a.count
    }

    /// z = meanDifference / standardError (±infinity when the differences are all equal and non-zero).
    public var zScore: Double {
        if standardError > 0 { return meanDifference / standardError }
        return meanDifference == 0 ? 0 : (meanDifference < 0 ? -.infinity : .infinity)
    }

    /// True when `a` has lower error than `b` by more than `margin` standard errors (default 2).
    public func aBeatsB(margin: Double = 2) -> Bool { zScore < -margin }
    /// True when `b` has lower error than `a` by more than `margin` standard errors.
    public func bBeatsA(margin: Double = 2) -> Bool { zScore > margin }

    /// A one-word verdict for reports: "better", "worse" or "tie" (within 2 SE), seen from `a`.
    public var verdict: String { aBeatsB() ? "better" : (bBeatsA() ? "worse" : "tie") }
}

/// Mean and sample standard deviation of a few numbers (e.g. Fréchet distances over sampling seeds).
public struct MeanAndSpread: Codable, Sendable, Equatable {
    public let mean: Double
    /// Sample standard deviation (n-1); 0 for a single value.
    public let standardDeviation: Double
    public let values: [Double]

    public init(_ values: [Double]) {
        self.values = values
        let n = Double(values.count)
        mean = values.isEmpty ? .nan : values.reduce(0, +) / n
        let m = mean
        standardDeviation = values.count < 2 ? 0 : (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot()
    }
}
