import ArgumentParser
import Foundation
import TVStorage
import TVSweep

/// `tvtool search BASE FT1 … FTN --grid … -o DIR`: grid (and coarse-to-fine) search over the merge
/// weights of task arithmetic.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search merge weights w for theta = base + sum_i w_i (FT_i - base) on a grid, recording every point.",
        discussion: """
            Grids (one grammar for search, deme and landscape): lo:hi:N = N evenly spaced values from lo \
            to hi (0:1:5 = 0, 0.25, 0.5, 0.75, 1); lo:hi:stepS = lo, lo+S, … up to hi (0:1:step0.1 = \
            0:1:11); a,b,c = a list; a bare decimal third field (0:1:0.1) is refused as ambiguous. Give one \
            --grid for every weight or one per finetuned model. Random, sobol and cmaes sample the grid's \
            box [min, max] per axis.

            Strategies (--strategy): grid = every grid point; coord (default) = coordinate descent on the \
            grid, one axis at a time over all its values, until a full cycle does not move; random / sobol \
            = --max-evals seeded samples; cmaes = CMA-ES for --max-evals points. coord was the default \
            chosen by scripts/bench/search_strategies.sh: on the digits objective it came within one \
            standard error of the full grid's best with under a tenth of the grid's evaluations \
            (docs/sweeps.md). --refine R adds R rounds around the best point (--refine-points values per \
            axis, spaced half the previous round's step, clamped to the grid's bounds). --dry-run prints \
            the cost. Each round is one batch that --jobs and --shard spread.

            Records are keyed by weights and evaluator: rerunning in the same folder with a finer or larger \
            grid or another strategy reuses every finished point; other inputs or another evaluator are \
            refused, naming the setting that differs. Outputs: records.jsonl (every point, appended as \
            evaluated; rerun to resume), results.csv (this search's points), best.json, the best merged \
            checkpoint (best.safetensors, or --best-output), landscape.png for a search over two weights (the \
            grid as a heatmap, every evaluated point as a dot, base and finetunes marked), logs/ (each point's evaluator stdout/stderr). \
            Weights are not normalised. Ties: of points with the same best score, the one earliest in \
            the search's order wins (lowest round, then lowest point index: the first such row of \
            results.csv), whatever order --jobs or --shard evaluated them in.

            --per-block: one weight per model AND layer group (axes w1_IN, w1_MID, …, w2_IN, …; \
            --block-groups: in-mid-out (SD 1.x UNet: IN, MID, OUT, plus BASE for a full checkpoint), \
            mbw (the 25 MBW blocks, plus BASE), mlp (tvtool's MLP: IN, B0…Bn, OUT), unet (a diffusers \
            UNet: IN, D0…, MID, U0…, OUT), top (first name component), auto (default: in-mid-out, mlp, \
            unet or top by the base's tensor names). A --grid \
            given once per model applies to all of that model's groups. --start w1,…,wN (or one value \
            per axis) starts coord/cmaes there, e.g. at a per-model search's best. The best checkpoint \
            is merged by the engine with one rule per group (docs/block-weights.md). With --shard i/n only the records are written (sequential \
            strategies wait for the other shards' points of each round): merge them with 'tvtool sweep \
            collect'.

            Examples:
              tvtool search base.safetensors r0.safetensors r1.safetensors r2.safetensors r3.safetensors --grid 0:1:11 --eval-cmd 'python fid.py --ckpt {checkpoint}' -o search/
              tvtool search base.safetensors r0.safetensors r1.safetensors --strategy cmaes --max-evals 60 --eval-cmd './fid.sh {checkpoint}' --dry-run -o search/
              tvtool search base.safetensors a.safetensors b.safetensors --grid 0:1:5 --strategy grid --refine 3 --eval-cmd './clip.sh {checkpoint}' --maximize --score-field clip -o search/
            """)

    @Argument(help: "The base checkpoint followed by the finetuned checkpoints.")
    var checkpoints: [String]

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Weight grid: lo:hi:N (N values), lo:hi:stepS (step S) or a,b,c; once for all weights or once per model.", valueName: "spec"))
    var grid: [String] = ["0:1:11"]

    @OptionGroup var search: SearchStrategyOptions

    @Flag(name: .customLong("per-block"), help: "Search one weight per model and layer group instead of one per model.")
    var perBlock = false

    @Option(name: .customLong("block-groups"), help: "With --per-block: auto, in-mid-out, mbw, mlp, unet or top.")
    var blockGroups: String = "auto"

    @Option(help: ArgumentHelp("Start coord/cmaes at these weights (one per model, or one per axis with --per-block).", valueName: "w1,w2,…"))
    var start: String?

    @Option(name: .customLong("best-output"), help: "Where to write the best merged checkpoint (default: OUTPUT/best.safetensors).")
    var bestOutput: String?

    @OptionGroup var evaluation: SweepEvaluationOptions
    @OptionGroup var execution: SweepExecutionOptions

    func run() throws {
        guard checkpoints.count >= 2 else { throw ValidationError("give the base and at least one finetuned checkpoint") }
        let models = Array(checkpoints.dropFirst())
        if !perBlock && blockGroups != "auto" { throw ValidationError("--block-groups applies to --per-block") }
        // Per-block axes depend on the base's tensor names, so the family is opened before the
        // dry run (memory-mapped: nothing is read yet).
        let family = try WeightSearch.prepare(base: checkpoints[0], models: models, blockGroups: perBlock ? blockGroups : nil)
        let axisNames = WeightSearch.axisNames(family: family)
        let perModelGrid = try GridSpec.parse(grid, dimensions: models.count)
        let groupsPerModel = axisNames.count / models.count
        let gridSpec = GridSpec(axes: perModelGrid.axes.flatMap { Array(repeating: $0, count: groupsPerModel) })
        var spec = try search.spec(grid: gridSpec)
        if let start {
            let values = try start.split(separator: ",").map { part -> Double in
                guard let v = Double(part.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                    throw ValidationError("--start: '\(part)' is not a number")
                }
                return v
            }
            guard values.count == models.count || values.count == axisNames.count else {
                throw ValidationError("--start has \(values.count) values; give one per model (\(models.count)) or one per axis (\(axisNames.count))")
            }
            spec.start = values.count == axisNames.count ? values : values.flatMap { Array(repeating: $0, count: groupsPerModel) }
            spec = try SearchSpec(strategy: spec.strategy, grid: spec.grid, refinement: spec.refinement, maxEvals: spec.maxEvals,
                                  seed: spec.seed, start: spec.start)
        }
        let options = try execution.runOptions()
        try evaluation.validate()
        // Every file this search writes, checked against every input before the first evaluation.
        let folder = URL(fileURLWithPath: execution.output)
        let best = bestOutput ?? folder.appendingPathComponent("best.safetensors").path
        try OutputGuard.check(outputs: [SweepSession.recordsPath(directory: execution.output, shard: options.shard), best]
                                  + ["results.csv", "best.json", SearchLandscape.fileName].map { folder.appendingPathComponent($0).path },
                              inputs: checkpoints)
        if execution.dryRun {
            let report = SweepReport.dryRun("search", spec: spec, output: execution.output)
            if execution.json { SweepReport.printJSON(report) }
            return
        }
        let evaluator = try evaluation.evaluator(family: family, axisNames: axisNames, jobs: options.jobs, output: execution.output)
        var settings: [String: String] = [:]
        if let m = family.mapping as? PerBlockMapping {
            settings["block_groups"] = m.groups.scheme + ": " + m.groups.names.joined(separator: ",")
        }
        let manifest = WeightSearch.manifest(grid: spec.grid, refinement: spec.refinement, strategy: spec.strategy,
                                             maxEvals: spec.maxEvals, seed: spec.seed, inputs: checkpoints,
                                             evaluator: evaluator.summary, goal: evaluation.goal, settings: settings,
                                             axisNames: axisNames, start: spec.start)
        let outcome = try SweepSession.run(manifest: manifest, evaluator: evaluator, directory: execution.output, options: options)
        var report: [String: Any] = ["strategy": spec.strategy.rawValue, "search_points": outcome.used.records.count,
                                     "evaluated": outcome.evaluated, "failed": outcome.failed, "non_finite": outcome.nonFinite, "skipped": outcome.skipped,
                                     "records": SweepSession.recordsPath(directory: execution.output, shard: options.shard)]
        if options.shard.isWhole {
            let summary = try WeightSearch.writeOutputs(manifest: manifest, records: outcome.records, family: family,
                                                        directory: execution.output, bestCheckpoint: best)
            report["best_checkpoint"] = summary.bestCheckpoint ?? NSNull()
            if let plot = summary.plot { report["plot"] = plot }
        }
        if let best = outcome.used.best(manifest.goal) {
            var entry: [String: Any] = ["id": best.id, "weights": best.coordinates, "value": best.value!]
            if perBlock { entry["axes"] = Dictionary(uniqueKeysWithValues: zip(axisNames, best.coordinates)) }
            report["best"] = entry
        }
        try SweepReport.finish("search", bestLabel: "best weights", report: report, outcome: outcome,
                               goal: manifest.goal, shard: options.shard, execution: execution)
    }
}
