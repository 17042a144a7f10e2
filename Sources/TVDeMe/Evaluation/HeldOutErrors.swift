import TVTrainer

/// Per-image held-out epsilon-MSE of one model (or ensemble) on a fixed `EvaluationSet`, overall
/// and per timestep range: the paired unit of every comparison in the report.
public struct HeldOutErrors: Sendable, Codable, Equatable {
    public let perImage: [Double]
    /// [range][image]
    public let perImagePerRange: [[Double]]

    public var mean: Double { perImage.reduce(0, +) / Double(perImage.count) }

    /// Evaluates `model` with the trainer's evaluator. The set's stratified timesteps must give
    /// every image at least one item per range (true when the range count divides `repeats`).
    public init(_ model: any Denoiser, on set: EvaluationSet, ranges: [TimestepRange], schedule: NoiseSchedule) throws(DeMeError) {
        guard model.dataDimension == set.dimension else {
            throw .evaluationFailed("model of data size \(model.dataDimension) on images of size \(set.dimension)")
        }
        let r = EpsilonMSE.evaluate(model, on: set, schedule: schedule)
        perImage = r.perImage
        perImagePerRange = ranges.map { r.perImage(in: $0) }
        guard perImagePerRange.allSatisfy({ $0.count == set.imageCount }) else {
            throw .evaluationFailed("the evaluation set's \(set.repeats) timesteps per image do not cover each of the \(ranges.count) ranges")
        }
        guard perImage.allSatisfy({ $0.isFinite }) else { throw .evaluationFailed("non-finite epsilon-MSE (the model diverged)") }
    }
}
