import ArgumentParser
import Foundation
import TVStorage
import TVSweep

/// Evaluation options shared by `landscape` and `search`.
struct SweepEvaluationOptions: ParsableArguments {
    @Option(name: .customLong("eval-cmd"), help: ArgumentHelp(
        "Score each point with this shell command instead of the built-in evaluator. {checkpoint} is replaced by the candidate's path (also in $TVTOOL_CHECKPOINT); the score is read from the last stdout line.",
        valueName: "command"))
    var evalCommand: String?

    @Option(help: "Seconds before an evaluation command is killed (its whole process group); the point is recorded as a timeout.")
    var timeout: Double = 3600

    @Option(name: .customLong("score-field"), help: "Read the score from this field of a JSON object on the command's last stdout line.")
    var scoreField: String?

    @Option(name: .customLong("candidate-format"), help: "Format of candidate checkpoints: safetensors, or input (the base's format where writable).")
    var candidateFormat: String = "safetensors"

    @Option(name: .customLong("tmp-dir"), help: "Folder for temporary candidate checkpoints (default: $TMPDIR). Node-local disks are best.")
    var tmpDir: String?

    @Flag(help: "Higher scores are better (CLIP score, accuracy); default: lower is better (loss, FID).")
    var maximize = false

    @Option(name: .customLong("t-range"), help: "Built-in evaluator: restrict the epsilon-MSE to timesteps lo:hi (half-open), e.g. 0:250.")
    var tRange: String?

    @Option(help: "Built-in evaluator: the images (digits, a .npy file, a PNG folder, or checkpoint:tensor).")
    var data: String = "digits"

    @Option(name: .customLong("eval-split"), help: "Built-in evaluator: held-out split 1 (the search/validation set, default, as in eval and deme's weight search) or 2 (the report set).")
    var evalSplit: Int = 1

    @Option(name: .customLong("eval-repeats"), help: "Built-in evaluator: timesteps per image (stratified over the range).")
    var evalRepeats: Int = 16

    @Option(name: .customLong("eval-seed"), help: "Built-in evaluator: seed of the evaluation timesteps and noise.")
    var evalSeed: UInt64 = 0

    var goal: SweepGoal { maximize ? .maximize : .minimize }

    /// The external command when --eval-cmd is given (each point's stdout/stderr kept in
    /// OUTPUT/logs), else the built-in epsilon-MSE.
    func evaluator(family: LinearFamily, axisNames: [String], jobs: Int, output: String) throws -> any PointEvaluator {
        if var command {
            command.logDirectory = URL(fileURLWithPath: output).appendingPathComponent("logs").path
            return try command.evaluator(candidates: family, axisNames: axisNames)
        }
        guard evalRepeats >= 1 else { throw ValidationError("--eval-repeats must be at least 1") }
        EpsilonMSEEvaluator.configureThreads(jobs: jobs)
        return try EpsilonMSEEvaluator(family: family, data: data, split: evalSplit, repeats: evalRepeats, seed: evalSeed,
                                       range: try tRange.map { try EpsilonMSEEvaluator.parseRange($0) })
    }

    /// Checks evaluator options that do not need the checkpoints.
    func validate() throws {
        if evalCommand != nil && tRange != nil { throw ValidationError("--t-range applies to the built-in evaluator, not to --eval-cmd") }
        if let tRange { _ = try EpsilonMSEEvaluator.parseRange(tRange) }
        guard evalSplit == 1 || evalSplit == 2 else { throw ValidationError("--eval-split must be 1 or 2, not \(evalSplit)") }
    }

    var defaultValueName: String {
        evalCommand != nil ? "score" : tRange.map { "eps_mse t=\($0)" } ?? "eps_mse"
    }

    var command: ExternalCommandSettings? {
        evalCommand.map {
            ExternalCommandSettings(command: $0, timeout: timeout, scoreField: scoreField, candidateFormat: candidateFormat,
                                    scratchDirectory: tmpDir)
        }
    }
}

/// Run-control options shared by `landscape` and `search`.
struct SweepExecutionOptions: ParsableArguments {
    @Option(name: [.customShort("o"), .customLong("output")], help: "Output folder (records, results, plots). Rerunning the same command resumes from its records.")
    var output: String

    @Option(help: "Evaluate this many points at once.")
    var jobs: Int = 1

    @Option(help: ArgumentHelp("Evaluate only shard i of n (0-based, strided by point index); combine the shards with 'tvtool sweep collect'.", valueName: "i/n"))
    var shard: String?

    @Flag(name: .customLong("retry-failed"), help: "Re-evaluate points recorded as failed or timed out.")
    var retryFailed = false

    @Option(name: .customLong("max-failures"), help: "Stop after this many failed evaluations (0: never). The first failure's error and stderr tail are printed at once; every point's stdout/stderr is kept in OUTPUT/logs.")
    var maxFailures: Int = 3

    @Option(name: .customLong("shard-wait"), help: "With --shard and a multi-round search: seconds to wait for the other shards' points of a round before giving up (rerun the shard to continue).")
    var shardWait: Double = 86_400

    @Flag(name: .customLong("dry-run"), help: "Print how many evaluations the command will cost (and how many are already recorded), then stop.")
    var dryRun = false

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    @Flag(help: "No progress or per-point lines on stderr.")
    var quiet = false

    func runOptions() throws -> SweepRunOptions {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard maxFailures >= 0 else { throw ValidationError("--max-failures must be 0 (never stop) or more") }
        guard shardWait >= 0 else { throw ValidationError("--shard-wait must be 0 or more seconds") }
        let s = try shard.map { try ShardSpec.parse($0) } ?? .whole
        // Per-point lines for logs (Slurm, pipes); a terminal gets the progress line instead.
        let log: (@Sendable (String) -> Void)? = quiet || Console.stderrIsTerminal ? nil : { @Sendable line in Console.error(line) }
        return SweepRunOptions(jobs: jobs, shard: s, retryFailed: retryFailed, log: log, progress: !quiet,
                               maxFailures: maxFailures, firstFailure: { @Sendable in Console.error($0) }, shardWait: shardWait)
    }
}

/// How `search` and `deme` choose their points (the grid itself is each command's --grid).
struct SearchStrategyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How points are chosen: grid (every grid point), coord (coordinate descent on the grid), random or sobol (samples in the grid's box), cmaes (CMA-ES in the box). Default \(SearchStrategy.default.rawValue): it reaches the full grid's best within one standard error with a fraction of the evaluations (docs/sweeps.md).", valueName: "name"))
    var strategy: String = SearchStrategy.default.rawValue

    @Option(name: .customLong("max-evals"), help: "Evaluate at most this many distinct points (required by random, sobol and cmaes).")
    var maxEvals: Int?

    @Option(help: "Coarse-to-fine rounds after the strategy: each lays --refine-points values per axis around the best point, spaced half the previous round's step, clamped to the grid's bounds.")
    var refine: Int = 0

    @Option(name: .customLong("refine-points"), help: "Values per axis in each refinement round (odd).")
    var refinePoints: Int = 3

    @Flag(name: .customLong("refine-beyond-bounds"), help: "Let refinement rounds evaluate weights outside the grid's [min, max].")
    var refineBeyondBounds = false

    @Option(name: .customLong("search-seed"), help: "Seed of the random, sobol and cmaes strategies.")
    var searchSeed: UInt64 = 0

    func spec(grid: GridSpec) throws -> SearchSpec {
        guard let s = SearchStrategy(rawValue: strategy) else {
            throw ValidationError("--strategy must be one of \(SearchStrategy.allCases.map(\.rawValue).joined(separator: ", ")), not '\(strategy)'")
        }
        let refinement = refine > 0 ? try Refinement(rounds: refine, pointsPerAxis: refinePoints, beyondBounds: refineBeyondBounds) : nil
        return try SearchSpec(strategy: s, grid: grid, refinement: refinement, maxEvals: maxEvals, seed: searchSeed)
    }
}

enum SweepReport {
    /// `--dry-run`: what the search will cost, and what the folder already holds.
    static func dryRun(_ command: String, spec: SearchSpec, output: String?) -> [String: Any] {
        let cost = spec.cost
        let shape = spec.grid.shape.map(String.init).joined(separator: "×")
        var report: [String: Any] = ["strategy": spec.strategy.rawValue, "grid_shape": spec.grid.shape,
                                     "grid_points": spec.grid.pointCount, "evaluations": cost.evaluations, "exact": cost.exact]
        var line = "\(command): strategy \(spec.strategy.rawValue) on a \(shape) grid (\(spec.grid.pointCount) points): "
            + (cost.exact ? "\(cost.evaluations) evaluations" : "at most \(cost.evaluations) evaluations (it may stop earlier)")
        if let output {
            let path = SweepSession.recordsPath(directory: output, shard: .whole)
            if let loaded = try? RecordStore.load(path: path), !loaded.records.isEmpty {
                let ids = Set(loaded.records.filter { $0.status == .ok }.map(\.id))
                report["recorded"] = ids.count
                line += "; \(path) holds \(ids.count) finished points, reused when the settings match"
                if cost.exact, spec.refinement == nil {
                    let planned = Set(SearchTrajectory.plannedPoints(spec).map(\.id))
                    let reused = planned.intersection(ids).count
                    report["to_evaluate"] = planned.count - reused
                    line += " (\(reused) of this search's points: \(planned.count - reused) to evaluate)"
                }
            }
        }
        Console.error(line)
        return report
    }

    /// Prints a JSON object (sorted keys) on stdout.
    /// Prints a JSON object (sorted keys) on stdout.
    static func printJSON(_ object: [String: Any]) {
        // Through JSONText: a NaN score no longer makes the whole summary vanish.
        if let text = try? JSONText.encode(object) { print(text) }
    }

    /// Ends a sweep-running command: the JSON report (`--json`) or, unless quiet, the console
    /// summary (`bestLabel` introduces the best point), then fails if every evaluated point failed.
    static func finish(_ command: String, bestLabel: String, report: [String: Any], outcome: SweepOutcome,
                       goal: SweepGoal, shard: ShardSpec, execution: SweepExecutionOptions) throws {
        if execution.json { printJSON(report) } else if !execution.quiet {
            let nonFinite = outcome.nonFinite > 0 ? ", \(outcome.nonFinite) of them a NaN/inf score, left out of the best" : ""
            Console.error("\(command): \(outcome.evaluated) evaluated (\(outcome.failed) failed\(nonFinite)), \(outcome.skipped) already done")
            if let best = outcome.used.best(goal) { Console.error("\(bestLabel) \(best.id) -> \(best.value!)") }
            if !shard.isWhole { Console.error("shard \(shard) done; merge with: tvtool sweep collect \(execution.output) -o OUT") }
        }
        try checkSomethingSucceeded(outcome)
    }

    /// Fails the command when nothing at all could be evaluated.
    static func checkSomethingSucceeded(_ o: SweepOutcome) throws {
        if o.evaluated > 0 && o.failed == o.evaluated && o.records.okRecords.isEmpty {
            let first = o.records.records.first { $0.status != .ok }
            throw SweepCommandError.allFailed(o.failed, first?.error ?? "")
        }
    }
}

enum SweepCommandError: BadInputError {
    case allFailed(Int, String)
    var description: String {
        switch self {
        case let .allFailed(n, e): return "all \(n) evaluated points failed; first error: \(e)"
        }
    }
}
