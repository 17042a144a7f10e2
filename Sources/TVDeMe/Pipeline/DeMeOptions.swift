import Foundation
import TVSearch
import TVTrainer

/// Settings of a whole `tvtool deme` run. Defaults follow issue 5's small-scale regime (digits,
/// MLP width 256, batch 128, pretrained ~8k steps, 4 ranges × 2k steps) and deme.md's optimiser,
/// except lr 5e-5 and p 0.5 for DeMe's finetunes and lr 2e-4 for the plain baseline: each chosen
/// for its method on the search set only by scripts/bench/deme_defaults.sh with the bundled
/// block-conditioned pretrained model (docs/deme.md, "Block-conditioned MLP").
public struct DeMeOptions: Sendable {
    public enum Objective: String, Sendable, CaseIterable, Codable {
        /// Held-out epsilon-MSE averaged uniformly over t on the search set (deterministic, cheap).
        case mse
        /// Fréchet distance of samples to the search images (one sampling seed; slow and noisy).
        case frechet
    }

    /// How the range models are merged (docs/deme.md, "Per-block weights"): one weight per model
    /// (DeMe's merge, the default), or per layer group.
    public enum MergeGranularity: String, Sendable, CaseIterable, Codable {
        /// One weight per range model, searched (DeMe's merge; the default until the study).
        case model
        /// One weight per range model and layer group, searched with the search strategy from
        /// the per-model optimum on `blockGrid` (plus each model's per-model weight).
        case block
        /// The ensemble's routing distilled per layer group: model i's share of group g is the
        /// gain on its own range R_i from adding only its group-g task vector; the shares of a
        /// group sum to 1 and one common scale is searched.
        case routed
    }

    /// `model`: the per-block study (docs/deme.md, "Per-block weights") adopted `block` by its rule
    /// on the previous main job's model and defaults; both changed since, so it awaits a rerun.
    public var mergeGranularity = MergeGranularity.model
    /// Layer groups of the per-block merges (`BlockGroups` schemes; `auto` = `mlp` (IN, B0…B3,
    /// OUT) for the MLP, `unet` (IN, D0…, MID, U0…, OUT) for a UNet).
    public var blockGroups = "auto"
    /// Values of every per-block weight (each model's per-model weight is added to its axes).
    public var blockGrid: AxisSpec = try! AxisSpec.parse("0:1:17")
    /// Values of the routed merge's common scale (then `refinements` rounds).
    public var routedScaleGrid: AxisSpec = try! AxisSpec.parse("0:2:9")

    public var ranges = 4
    public var stepsPerRange = 2000
    public var globalProbability = 0.5
    public var consistencyWeight: Float = 1
    public var projections = true
    public var batchSize = 128
    /// Random left-right flips of the training images in every finetune (DDPM's augmentation).
    public var horizontalFlip = false
    public var optimizer: AdamWSettings = {
        var a = AdamWSettings.deme
        a.learningRate = 5e-5
        return a
    }()
    /// The plain baseline's learning rate (the rest of its optimiser is `optimizer`'s): tuned for
    /// it by the same rule, so the comparison is equal-budget and equally tuned.
    public var plainLearningRate: Float = 2e-4
    public var ema: ExponentialMovingAverage.Settings? = ExponentialMovingAverage.Settings(maxDecay: 0.9999, power: 0.75)
    public var seed: UInt64 = 0
    /// One grid for every weight, or one per range (the grammar of `tvtool search`: 0:1:5 = 5 values).
    public var grid: [AxisSpec] = [try! AxisSpec.parse("0:1:5")]
    /// How the weight search chooses its points (TVSearch; the default chosen in docs/sweeps.md).
    public var strategy = SearchStrategy.default
    public var maxEvals: Int?
    public var searchSeed: UInt64 = 0
    /// Coarse-to-fine rounds after the strategy (TVSearch's refinement rule, clamped to the grid).
    public var refinements = 2
    public var refinePoints = 3
    public var refineBeyondBounds = false
    public var workers = 2
    public var objective = Objective.mse
    /// Evaluation timesteps per image and range (search and report sets alike).
    public var evalTimestepsPerRange = 4
    /// Fréchet distance: samples per seed and sampling seeds (the spread is over seeds).
    public var frechetSamples = 500
    public var frechetSeeds: [UInt64] = [1, 2, 3]
    /// DDIM steps for samples (eta 0, as in the official code).
    public var samplingSteps = 50
    public var ablate = false
    public var gridImages = 64

    public init() {}

    /// The grid of weight i (one grid may serve all).
    public func grid(for i: Int) -> AxisSpec { grid.count == 1 ? grid[0] : grid[i] }

    /// The weight search over `count` weights (`count` = 1: the plain finetune's interpolation, on
    /// the first weight's grid).
    public func search(weights count: Int) throws -> SearchSpec {
        let refinement = refinements > 0 ? try Refinement(rounds: refinements, pointsPerAxis: refinePoints, beyondBounds: refineBeyondBounds) : nil
        return try SearchSpec(strategy: strategy, grid: GridSpec(axes: (0..<count).map(grid(for:))), refinement: refinement,
                              maxEvals: maxEvals, seed: searchSeed)
    }

    public func validate() throws(DeMeError) {
        guard ranges >= 1 else { throw .invalidArgument("--ranges must be at least 1") }
        guard grid.count == 1 || grid.count == ranges else {
            throw .invalidArgument("give one --grid for all weights or one per range (\(ranges)), not \(grid.count)")
        }
        guard stepsPerRange >= 1 else { throw .invalidArgument("--steps-per-range must be at least 1") }
        guard evalTimestepsPerRange >= 1 else { throw .invalidArgument("--eval-timesteps must be at least 1") }
        guard frechetSeeds.isEmpty || frechetSamples >= 2 else { throw .invalidArgument("--fd-samples must be at least 2") }
        guard workers >= 1 else { throw .invalidArgument("--jobs must be at least 1") }
        guard plainLearningRate > 0, plainLearningRate.isFinite else { throw .invalidArgument("--plain-lr must be positive") }
        do { _ = try search(weights: ranges) } catch { throw .invalidArgument("\(error)") }
    }

    /// The finetune options of range model i ("full" = every technique on; the ablation turns them off).
    func finetune(range: TimestepRange, index: Int, consistency: Bool = true, projections: Bool? = nil, sampling: Bool = true) -> FinetuneOptions {
        FinetuneOptions(range: range, steps: stepsPerRange, globalProbability: sampling ? globalProbability : 0,
                        consistencyWeight: consistency ? consistencyWeight : 0, projections: projections ?? self.projections,
                        batchSize: batchSize, optimizer: optimizer, ema: ema, seed: seed &+ UInt64(index + 1),
                        horizontalFlip: horizontalFlip)
    }
}
