import Foundation
import TVEngine
import TVStorage
import TVTrainer

/// Merge-weight searches from Swift: the operations behind `tvtool search`. Point coordinates are
/// the weights w_i of theta = base + sum_i w_i (model_i - base) (DeMe's merge; weights are not
/// normalised).
///
///     let family = try WeightSearch.prepare(base: "base.safetensors", models: ["r0.safetensors", "r1.safetensors"])
///     let manifest = WeightSearch.manifest(grid: try GridSpec.parse(["0:1:0.1"], dimensions: 2),
///                                          refinement: try Refinement(rounds: 2), inputs: […], evaluator: "my score")
///     let evaluator = ClosureEvaluator(summary: "my score") { point in try myScore(family.materialize(at: point.coordinates)) }
///     let outcome = try SweepSession.run(manifest: manifest, evaluator: evaluator, directory: "search", options: .init())
///     try WeightSearch.writeOutputs(manifest: manifest, records: outcome.records, family: family,
///                                   directory: "search", bestCheckpoint: "search/best.safetensors")
public enum WeightSearch {
    /// The family of candidates; with `blockGroups` (a `BlockGroups` scheme: auto, mbw,
    /// in-mid-out, mlp, top) its coordinates are per-block weights (`PerBlockMapping`).
    public static func prepare(base: String, models: [String], blockGroups: String? = nil,
                               open: OpenOptions = OpenOptions()) throws -> LinearFamily {
        let b = try Checkpoints.open(base, options: open)
        let ms = try models.map { try Checkpoints.open($0, options: open) }
        // The best point's file carries the model config the inputs agree on: a broken
        // config.json is reported now, not after the evaluations.
        _ = try CarriedModelConfig.outcome([b] + ms)
        guard let blockGroups else { return try LinearFamily(base: b, models: ms) }
        let names = b.tensors.filter { $0.dtype.supportsArithmetic }.map(\.name)
        let groups = try BlockGroups.make(blockGroups, tensorNames: names, path: base)
        return try LinearFamily(base: b, models: ms, mapping: PerBlockMapping(groups: groups, modelCount: models.count))
    }

    /// Axis names w1 … wN.
    public static func axisNames(count: Int) -> [String] { (1...max(count, 1)).map { "w\($0)" } }

    /// The axis names of `family`'s coordinates: w1 … wN, or w1_IN, w1_B0, … for per-block weights.
    public static func axisNames(family: LinearFamily) -> [String] {
        let perModel = axisNames(count: family.models.count)
        guard let m = family.mapping as? PerBlockMapping else { return perModel }
        return m.groups.axisNames(modelLabels: perModel)
    }

    /// The number of coordinates of `family` (weights, or per-block weights).
    public static func dimensions(family: LinearFamily) -> Int { axisNames(family: family).count }

    public static func manifest(grid: GridSpec, refinement: Refinement? = nil, strategy: SearchStrategy = .grid,
                                maxEvals: Int? = nil, seed: UInt64 = 0, inputs: [String], evaluator: String,
                                goal: SweepGoal = .minimize, settings: [String: String] = [:],
                                axisNames names: [String]? = nil, start: [Double]? = nil) -> SweepManifest {
        SweepManifest(kind: "search", axisNames: names ?? axisNames(count: grid.axes.count), grid: grid, refinement: refinement,
                      strategy: strategy, maxEvals: maxEvals, seed: seed,
                      goal: goal, inputs: inputs, evaluator: evaluator, settings: settings, start: start)
    }

    /// The best point and where its files went.
    public struct Summary: Sendable, Codable {
        public var goal: SweepGoal
        public var axisNames: [String]
        public var bestWeights: [Double]?
        public var bestValue: Double?
        public var bestID: String?
        public var evaluated: Int
        public var failed: Int
        public var missing: Int
        public var bestCheckpoint: String?
        /// landscape.png, for a search over two weights.
        public var plot: String?

        enum CodingKeys: String, CodingKey {
            case goal, evaluated, failed, missing, plot
            case axisNames = "axis_names", bestWeights = "best_weights", bestValue = "best_value", bestID = "best_id"
            case bestCheckpoint = "best_checkpoint"
        }
    }

    /// Writes theta = base + sum_i w_i tau_i through TVEngine's task-arithmetic merge (the same code
    /// as `tvtool merge`), with its recipe in the metadata. Per-block coordinates become one rule
    /// per group (the rules `merge --rules` takes), so the recipe reproduces the file.
    public static func writeMerged(weights: [Double], family: LinearFamily, to path: String,
                                   metadata: [String: String] = [:]) throws {
        var options = MergeOptions()
        options.progress = false
        options.metadata = metadata
        var parameters = MergeParameters(global: ["weight": .perModel(weights)])
        if let m = family.mapping as? PerBlockMapping {
            // Tensors in no group keep the base, as in the search's candidates.
            parameters = MergeParameters(global: ["weight": .scalar(0)],
                                         rules: m.groups.rules(weights, modelCount: m.modelCount))
        }
        _ = try Merger.merge(method: try MergeMethods.named("task_arithmetic"),
                             inputs: MergeInputs(base: family.base, models: family.models),
                             parameters: parameters, options: options, output: path)
    }

    /// Writes results.csv (the points this search used, in order), best.json and, over two weights,
    /// landscape.png into `directory`, and the best merged checkpoint to `bestCheckpoint` when a family is given.
    @discardableResult
    public static func writeOutputs(manifest: SweepManifest, records all: RecordSet, family: LinearFamily?,
                                    directory: String, bestCheckpoint: String?) throws -> Summary {
        let dir = URL(fileURLWithPath: directory)
        let records = SweepPlan.used(manifest: manifest, records: all)
        try AtomicFile.write(RecordsCSV.render(records.records, axisNames: manifest.axisNames),
                             to: dir.appendingPathComponent("results.csv").path)
        let best = records.best(manifest.goal)
        var summary = Summary(goal: manifest.goal, axisNames: manifest.axisNames, bestWeights: best?.coordinates,
                              bestValue: best?.value, bestID: best?.id, evaluated: records.records.count,
                              failed: records.records.filter { $0.status != .ok }.count,
                              missing: SweepPlan.missing(manifest: manifest, records: all).points.count,
                              bestCheckpoint: nil, plot: nil)
        summary.plot = try SearchLandscape.write(manifest: manifest, records: records, directory: directory)
        if let best, let family, let bestCheckpoint {
            var metadata = [
                "tvtool.search_score": "\(best.value!)", "tvtool.search_goal": manifest.goal.rawValue,
                "tvtool.search_evaluator": manifest.evaluator,
            ]
            // A trainer model (MLP file or UNet folder) keeps the config its inputs agree on, so
            // eval/sample load the best point (none when they disagree, as for `merge`).
            _ = try CarriedModelConfig.carry(from: [family.base] + family.models, outputTensors: family.tensorInfos.map(\.name), into: &metadata)
            try writeMerged(weights: best.coordinates, family: family, to: bestCheckpoint, metadata: metadata)
            summary.bestCheckpoint = bestCheckpoint
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(try enc.encode(summary) + Data("\n".utf8), to: dir.appendingPathComponent("best.json").path)
        return summary
    }
}
