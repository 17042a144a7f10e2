import Foundation
import TVStorage
import TVTrainer

/// The built-in evaluator: held-out epsilon-MSE of the bundled trainer's model at each point,
/// computed in memory (no checkpoint file per point), optionally restricted to a timestep range
/// (DeMe's per-range landscapes).
///
/// The evaluation set is the trainer's: `EvaluationSet` over held-out split `split` (1 or 2) of
/// `DatasetSplit.standard`, `repeats` stratified timesteps per image, seeded. With a range, only
/// the triples whose t lies in it count, so `repeats` is raised to give about 16 per image there.
public struct EpsilonMSEEvaluator: PointEvaluator {
    public let family: LinearFamily
    public let config: ModelConfig
    public let set: EvaluationSet
    public let range: TimestepRange?
    public let summary: String

    /// Reads the model config from the base checkpoint's metadata and builds the evaluation set.
    public init(family: LinearFamily, data: String = "digits", split: Int = 1, repeats: Int = 16, seed: UInt64 = 0,
                range: TimestepRange? = nil) throws {
        let config = try ModelFolder.config(family.base)
        let dataset = try DatasetLoader.load(data)
        guard dataset.dimension == config.dataDimension else {
            throw SweepModelError.degenerate("\(data): images have \(dataset.dimension) values, the model \(family.base.path) expects \(config.dataDimension)")
        }
        guard split == 1 || split == 2 else { throw SweepModelError.degenerate("--eval-split must be 1 or 2") }
        let heldOut = try DatasetSplit.standard(dataset).heldOut[split - 1]
        var r = repeats
        if let range {
            guard range.lower >= 0, range.upper <= config.timesteps else {
                throw SweepModelError.degenerate("--t-range \(range) is outside [0, \(config.timesteps))")
            }
            r = min(config.timesteps, repeats * max(1, config.timesteps / range.count))
        }
        self.family = family
        self.config = config
        self.set = EvaluationSet(data: heldOut, timesteps: config.timesteps, repeats: r, seed: seed)
        self.range = range
        self.summary = "builtin eps-mse on \(data) held-out \(split) (\(heldOut.count) images x \(r) timesteps, seed \(seed))"
            + (range.map { ", t in [\($0.lower), \($0.upper))" } ?? "")
    }

    public func evaluate(_ point: SweepPoint) throws -> Double { try evaluateWithError(point).value }

    /// The mean over images and its standard error over images (sample SD / sqrt(images)).
    public func evaluateWithError(_ point: SweepPoint) throws -> (value: Double, standardError: Double?) {
        let tensors = try family.materialize(at: point.coordinates)
        let model = try ModelCheckpoint.model(config: config, tensors: tensors, source: "point \(point.id)")
        let perImage = EpsilonMSE.evaluate(model, on: set, schedule: config.makeSchedule()).perImage(in: range)
        let n = Double(perImage.count)
        let mean = perImage.reduce(0, +) / n
        let variance = perImage.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / max(n - 1, 1)
        return (mean, perImage.count > 1 ? (variance / n).squareRoot() : nil)
    }

    /// With several points evaluated at once, each evaluation uses one BLAS thread (parallelism
    /// over points instead of inside the matrix products).
    public static func configureThreads(jobs: Int) {
        if jobs > 1 { BLASThreads.set(1) }
    }

    /// Parses `lo:hi` (half-open).
    public static func parseRange(_ text: String) throws(SweepModelError) -> TimestepRange {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[1]), lo >= 0, hi > lo else {
            throw .degenerate("--t-range '\(text)': expected lo:hi with 0 <= lo < hi, e.g. 0:250")
        }
        return TimestepRange(lower: lo, upper: hi)
    }
}
