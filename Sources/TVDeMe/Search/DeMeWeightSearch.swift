import Foundation
import TVSearch
import TVStorage
import TVTrainer

/// DeMe's weight searches through TVSearch, the search module of `tvtool search` and
/// `landscape`: the same grid grammar, strategies, refinement rule and records. Each search keeps
/// `<stem>.jsonl` (the records file, resumed on rerun: a point already evaluated with the same
/// finetunes and search set is not evaluated again) and `<stem>.csv` (this search's points, the
/// columns of `tvtool search`'s results.csv).
public struct DeMeWeightSearch: Sendable {
    public let spec: SearchSpec
    public let jobs: Int
    /// What the objective is (search set, repeats, seed): part of the records' identity.
    public let evaluator: String
    public var log: @Sendable (String) -> Void = { Console.error($0) }

    public init(spec: SearchSpec, jobs: Int, evaluator: String) {
        self.spec = spec
        self.jobs = max(1, jobs)
        self.evaluator = evaluator
    }

    public struct Result: Sendable {
        public var best: [Double]
        public var bestValue: Double
        /// Points this search used (evaluated now or found in the records).
        public var points: Int
        public var evaluated: Int
    }

    /// Searches the weights of `models` (lower `score` is better). `inputs` are the base then one
    /// name per finetuned model; `identity` says what they are (option hashes), so records made
    /// with other finetunes are recognised as stale. With per-block `models` (groups) the axes are
    /// w1_IN, w1_B0, … (one per model and group) and `spec`'s grid has one axis per coordinate.
    /// `line` searches a one-parameter family instead: the point's single coordinate (axis
    /// `line.axis`) maps to the models' coordinates by `line.map` (described in the records by
    /// `line.description`); `best` is then that single coordinate.
    public func run(_ models: MergedModels, inputs: [String], identity: String, stem: URL,
                    line: (axis: String, description: String, map: @Sendable ([Double]) -> [Double])? = nil,
                    score: @escaping @Sendable (any TrainableDenoiser) throws -> Double) throws -> Result {
        let n = inputs.count - 1
        var axisNames = n == 1 ? ["w"] : (1...n).map { "w\($0)" }
        var settings = ["models": identity]
        if let line {
            axisNames = [line.axis]
            settings["line"] = line.description
        } else if let groups = models.groups {
            axisNames = groups.axisNames(modelLabels: (1...n).map { "w\($0)" })
            settings["block_groups"] = groups.scheme + ": " + groups.names.joined(separator: ",")
        }
        var s = spec
        if s.grid.axes.count != axisNames.count { s.grid = GridSpec(axes: Array(repeating: spec.grid.axes[0], count: axisNames.count)) }
        let manifest = SweepManifest(kind: "search", axisNames: axisNames, grid: s.grid,
                                     refinement: s.refinement, strategy: s.strategy, maxEvals: s.maxEvals, seed: s.seed,
                                     inputs: inputs, evaluator: evaluator, settings: settings, start: s.start)
        models.prepareWorkers(jobs)
        let pool = WorkerPool(count: jobs)
        let evaluate = ClosureEvaluator(summary: evaluator) { point in
            let weights = line.map { $0.map(point.coordinates) } ?? point.coordinates
            return try pool.with { w in try models.withWorkerModel(w, weights: weights) { try score($0) } }
        }
        let recordsPath = stem.appendingPathExtension("jsonl").path
        let store: RecordStore
        do {
            store = try RecordStore(path: recordsPath, manifest: manifest)
        } catch RecordError.differentSettings(_, let diff) {
            // The finetunes or the search set changed since those records: they score other models.
            log("\(recordsPath): \(diff); starting this search afresh")
            try? FileManager.default.removeItem(atPath: recordsPath)
            store = try RecordStore(path: recordsPath, manifest: manifest)
        }
        // In-memory evaluations fail only by a non-finite objective: record it and go on.
        let options = SweepRunOptions(jobs: jobs, maxFailures: 0)
        // `jobs` candidates at once, each on its own thread: OpenBLAS on one thread meanwhile.
        let outcome = try BLASThreads.singleThreaded(if: jobs > 1) {
            try SweepRunner(manifest: manifest, evaluator: evaluate, store: store, options: options).run()
        }
        try TextFile.write(RecordsCSV.render(outcome.used.records, axisNames: manifest.axisNames), to: stem.appendingPathExtension("csv"))
        guard let best = outcome.used.best(.minimize) else {
            throw DeMeError.evaluationFailed("every candidate of the weight search gave a non-finite objective")
        }
        return Result(best: best.coordinates, bestValue: best.value!, points: outcome.used.records.count, evaluated: outcome.evaluated)
    }
}

/// Hands each concurrent evaluation its own scratch-model index.
final class WorkerPool: @unchecked Sendable {
    private var free: [Int]
    private let lock = NSCondition()

    init(count: Int) { free = Array((0..<count).reversed()) }

    func with<R>(_ body: (Int) throws -> R) throws -> R {
        lock.lock()
        while free.isEmpty { lock.wait() }
        let w = free.removeLast()
        lock.unlock()
        defer { lock.lock(); free.append(w); lock.signal(); lock.unlock() }
        return try body(w)
    }
}
