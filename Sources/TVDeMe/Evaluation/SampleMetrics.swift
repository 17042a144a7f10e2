import Foundation
import TVImage
import TVStorage
import TVTrainer

/// Sample-based measurements for the report: the Fréchet distance (pixel space) between generated
/// samples and held-out images, and PNG grids of samples. DDIM with eta 0 (the official code's
/// sampler); all randomness from the seed, so models compared on the same seed start from the same noise.
public struct SampleMetrics: Sendable {
    public let steps: Int
    public let schedule: NoiseSchedule

    public init(steps: Int, schedule: NoiseSchedule) {
        self.steps = steps
        self.schedule = schedule
    }

    public func samples(_ model: any Denoiser, count: Int, seed: UInt64) -> [Float] {
        DiffusionSampler.sample(model, schedule: schedule, count: count, kind: .ddim(steps: steps, eta: 0), seed: seed)
    }

    public func frechet(_ model: any Denoiser, reference: ImageDataset, samples n: Int, seed: UInt64) throws -> Double {
        let fd = try FrechetDistance.compute(samples(model, count: n, seed: seed), reference.values, dimension: reference.dimension)
        guard fd.isFinite else { throw DeMeError.evaluationFailed("non-finite Fréchet distance (seed \(seed))") }
        return fd
    }

    /// A square-ish grid of `count` samples, each pixel scaled up 4× for viewing.
    public func writeGrid(_ model: any Denoiser, count: Int, seed: UInt64, shape: ImageDataset, to url: URL) throws {
        let x = samples(model, count: count, seed: seed)
        let d = shape.dimension
        let images = (0..<count).map { ImageDataset.raster(Array(x[($0 * d)..<(($0 + 1) * d)]), channels: shape.channels, height: shape.height, width: shape.width) }
        let columns = Int(Double(count).squareRoot().rounded(.up))
        try AtomicFile.write(Data(PNGEncoder.encode(RasterImage.grid(images, columns: max(columns, 1)).scaled(by: 4))), to: url.path)
    }
}
