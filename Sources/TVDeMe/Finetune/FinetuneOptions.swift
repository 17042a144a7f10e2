import Foundation
import TVTrainer

/// Everything that shapes one DeMe finetune (deme.md, "Decouple"). The defaults are the official
/// code's: AdamW lr 5e-5, betas (0.95, 0.999), weight decay 1e-6, eps 1e-8, clip 1.0, constant LR,
/// EMA decay min(0.9999, 1 - n^-3/4); consistency weight 1; probabilistic sampling p = 0.3
/// (the LSUN script's value); projections on.
public struct FinetuneOptions: Codable, Sendable, Equatable {
    public var range: TimestepRange
    public var steps: Int
    /// Probability that a batch draws its timesteps from the whole [0, T) instead of `range`.
    public var globalProbability: Double
    /// Weight of the consistency term mse(eps_i, eps_pretrained); 0 turns it off.
    public var consistencyWeight: Float
    /// Train identity-initialised channel-wise projections (kept in the output).
    public var projections: Bool
    public var batchSize: Int
    public var optimizer: AdamWSettings
    public var ema: ExponentialMovingAverage.Settings?
    public var seed: UInt64
    /// Random left-right flips of the training images (p = 1/2, DDPM's augmentation); nil = off.
    /// Optional so the recorded options of finetunes without flips keep their bytes (and are reused).
    public var horizontalFlip: Bool?

    public init(range: TimestepRange, steps: Int, globalProbability: Double = 0.3, consistencyWeight: Float = 1,
                projections: Bool = true, batchSize: Int = 128, optimizer: AdamWSettings = .deme,
                ema: ExponentialMovingAverage.Settings? = ExponentialMovingAverage.Settings(maxDecay: 0.9999, power: 0.75),
                seed: UInt64 = 0, horizontalFlip: Bool = false) {
        self.range = range
        self.steps = steps
        self.globalProbability = globalProbability
        self.consistencyWeight = consistencyWeight
        self.projections = projections
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.ema = ema
        self.seed = seed
        self.horizontalFlip = horizontalFlip ? true : nil
    }

    /// A plain finetune: all timesteps, no consistency, no projections (the equal-budget baseline).
    public static func plain(timesteps: Int, steps: Int, batchSize: Int = 128, optimizer: AdamWSettings = .deme,
                             ema: ExponentialMovingAverage.Settings? = ExponentialMovingAverage.Settings(maxDecay: 0.9999, power: 0.75),
                             seed: UInt64 = 0, horizontalFlip: Bool = false) -> FinetuneOptions {
        FinetuneOptions(range: TimestepRange(lower: 0, upper: timesteps), steps: steps, globalProbability: 0,
                        consistencyWeight: 0, projections: false, batchSize: batchSize, optimizer: optimizer, ema: ema, seed: seed,
                        horizontalFlip: horizontalFlip)
    }

    /// The metadata key a finetuned checkpoint records these options under (used to reuse finished
    /// finetunes when the pipeline is rerun).
    public static let metadataKey = "tvtool.deme_finetune"

    public func metadataJSON() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return (try? String(decoding: enc.encode(self), as: UTF8.self)) ?? "{}"
    }

    public func validate(timesteps: Int) throws(DeMeError) {
        guard steps >= 1 else { throw .invalidArgument("--steps must be at least 1") }
        guard batchSize >= 2 else { throw .invalidArgument("--batch must be at least 2") }
        guard range.upper <= timesteps, range.lower >= 0 else {
            throw .invalidArgument("range \(range) is outside the model's \(timesteps) timesteps")
        }
        guard (0...1).contains(globalProbability) else { throw .invalidArgument("--p \(globalProbability) must lie in [0, 1]") }
        guard consistencyWeight >= 0, consistencyWeight.isFinite else { throw .invalidArgument("--consistency must be >= 0") }
        guard optimizer.learningRate > 0 else { throw .invalidArgument("--lr must be positive") }
    }
}
