import Foundation

/// `tvtool eval` as a library call: held-out epsilon-MSE (overall and per timestep range) and the
/// pixel-space Fréchet distance between generated samples and the training images.
public struct ModelEvaluation {
    public struct Options: Sendable {
        public var ranges = 4
        /// Which held-out set of the standard split (1: search set, 2: report set).
        public var heldOutSet = 2
        public var repeats = 16
        public var evaluationSeed: UInt64 = 0
        public var splitSeed: UInt64 = 0
        /// Samples for the Fréchet distance (0: skip it).
        public var frechetSamples = 1000
        public var samplingSeed: UInt64 = 0
        public var sampler: SamplerKind = .ddim(steps: 50, eta: 0)
        public init() {}
    }

    public struct RangeResult: Codable, Sendable {
        public var range: String
        public var epsilonMSE: Double
        public var standardError: Double
    }

    public struct Report: Codable, Sendable {
        public var data: String
        public var heldOutImages: Int
        public var triplesPerImage: Int
        public var evaluationSeed: UInt64
        public var epsilonMSE: Double
        public var standardError: Double
        public var ranges: [RangeResult]
        /// Per held-out image (in set order): for paired comparisons between models.
        public var perImageEpsilonMSE: [Double]
        public var frechetDistance: Double?
        public var frechetSamples: Int
        public var frechetReferenceImages: Int
        public var samplingSeed: UInt64
        public var sampler: String
    }

    /// Mean and standard error (over images) of per-image values.
    static func meanAndError(_ v: [Double]) -> (Double, Double) {
        let m = v.reduce(0, +) / Double(v.count)
        let s2 = v.count > 1 ? v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1) : 0
        return (m, (s2 / Double(v.count)).squareRoot())
    }

    /// `progress(stage, done, total)` reports long stages: "eps-mse" in triples, "samples" in samples.
    public static func run(_ denoiser: any Denoiser, schedule: NoiseSchedule, data: ImageDataset,
                           options o: Options, progress: ((String, Int, Int) -> Void)? = nil) throws -> Report {
        guard data.dimension == denoiser.dataDimension else {
            throw TrainerError.badData(source: data.source, reason: "images have \(data.dimension) values, the model expects \(denoiser.dataDimension)")
        }
        guard o.ranges >= 1, o.ranges <= schedule.timesteps, o.repeats % o.ranges == 0 else {
            throw TrainerError.badArgument("--ranges must divide the triples per image (\(o.repeats))")
        }
        let split = try DatasetSplit.standard(data, seed: o.splitSeed)
        guard (1...split.heldOut.count).contains(o.heldOutSet) else { throw TrainerError.badArgument("held-out set must be 1 or 2") }
        let set = EvaluationSet(data: split.heldOut[o.heldOutSet - 1], timesteps: schedule.timesteps, repeats: o.repeats, seed: o.evaluationSeed)
        var done = 0
        let result = EpsilonMSE.evaluate(denoiser, on: set, schedule: schedule) { n in
            done += n
            progress?("eps-mse", done, set.count)
        }
        let (overall, se) = meanAndError(result.perImage)
        let ranges = TimestepRange.equalSplit(timesteps: schedule.timesteps, count: o.ranges).map { r -> RangeResult in
            let (m, e) = meanAndError(result.perImage(in: r))
            return RangeResult(range: r.description, epsilonMSE: m, standardError: e)
        }
        var fd: Double?
        if o.frechetSamples > 0 {
            var made = 0
            let samples = DiffusionSampler.sample(denoiser, schedule: schedule, count: o.frechetSamples, kind: o.sampler, seed: o.samplingSeed) { n in
                made += n
                progress?("samples", made, o.frechetSamples)
            }
            fd = try FrechetDistance.compute(samples, split.train.values, dimension: data.dimension)
        }
        let samplerName: String
        switch o.sampler {
        case .ddpm: samplerName = "ddpm"
        case let .ddim(steps, eta): samplerName = "ddim steps \(steps) eta \(eta)"
        }
        return Report(data: data.source, heldOutImages: set.imageCount, triplesPerImage: o.repeats, evaluationSeed: o.evaluationSeed,
                      epsilonMSE: overall, standardError: se, ranges: ranges, perImageEpsilonMSE: result.perImage, frechetDistance: fd, frechetSamples: o.frechetSamples,
                      frechetReferenceImages: split.train.count, samplingSeed: o.samplingSeed, sampler: samplerName)
    }
}
