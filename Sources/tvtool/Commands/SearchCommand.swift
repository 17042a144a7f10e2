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
            Grids: lo:hi:N = N points from lo to hi; lo:hi:0.1 (a decimal) = step 0.1; a,b,c = a list. Give \
            one --grid for every weight or one per finetuned model. --refine R adds R coarse-to-fine rounds: \
            each lays --refine-points values per axis around the best point so far, spanning one step of \
            the previous round on each side. Points are identified by their weights, so a point reached \
            again is not re-evaluated.

            Outputs in the folder: records.jsonl (every point, appended as evaluated; rerun the same command \
            to resume), results.csv, best.json and the best merged checkpoint (best.safetensors, or \
            --best-output). Weights are not normalised (DeMe's released weights sum to 0.9). With \
            --shard i/n only the records are written: merge them with 'tvtool sweep collect'.

            Examples:
              tvtool search base.safetensors r0.safetensors r1.safetensors r2.safetensors r3.safetensors --grid 0:1:0.1 --eval-cmd 'python fid.py --ckpt {checkpoint}' -o search/
              tvtool search base.safetensors a.safetensors b.safetensors --grid 0:1:5 --refine 3 --eval-cmd './clip.sh {checkpoint}' --maximize --score-field clip -o search/
            """)

    @Argument(help: "The base checkpoint followed by the finetuned checkpoints.")
    var checkpoints: [String]

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Weight grid: lo:hi:N, lo:hi:step (decimal) or a,b,c; once for all weights or once per model.", valueName: "spec"))
    var grid: [String] = ["0:1:0.1"]

    @Option(help: "Coarse-to-fine rounds after the grid.")
    var refine: Int = 0

    @Option(name: .customLong("refine-points"), help: "Values per axis in each refinement round.")
    var refinePoints: Int = 5

    @Option(name: .customLong("best-output"), help: "Where to write the best merged checkpoint (default: OUTPUT/best.safetensors).")
    var bestOutput: String?

    @OptionGroup var evaluation: SweepEvaluationOptions
    @OptionGroup var execution: SweepExecutionOptions

    func run() throws {
        guard checkpoints.count >= 2 else { throw ValidationError("give the base and at least one finetuned checkpoint") }
        let models = Array(checkpoints.dropFirst())
        let gridSpec = try GridSpec.parse(grid, dimensions: models.count)
        let refinement = refine > 0 ? try Refinement(rounds: refine, pointsPerAxis: refinePoints) : nil
        let options = try execution.runOptions()
        try evaluation.validate()
        // Every file this search writes, checked against every input before the first evaluation.
        let folder = URL(fileURLWithPath: execution.output)
        let best = bestOutput ?? folder.appendingPathComponent("best.safetensors").path
        try OutputGuard.check(outputs: [SweepSession.recordsPath(directory: execution.output, shard: options.shard), best]
                                  + ["results.csv", "best.json"].map { folder.appendingPathComponent($0).path },
                              inputs: checkpoints)
        let family = try WeightSearch.prepare(base: checkpoints[0], models: models)
        let evaluator = try evaluation.evaluator(family: family, axisNames: WeightSearch.axisNames(count: models.count), jobs: options.jobs)
        let manifest = WeightSearch.manifest(grid: gridSpec, refinement: refinement, inputs: checkpoints,
                                             evaluator: evaluator.summary, goal: evaluation.goal)
        let outcome = try SweepSession.run(manifest: manifest, evaluator: evaluator, directory: execution.output, options: options)
        var report: [String: Any] = ["evaluated": outcome.evaluated, "failed": outcome.failed, "skipped": outcome.skipped,
                                     "records": SweepSession.recordsPath(directory: execution.output, shard: options.shard)]
        if options.shard.isWhole {
            let summary = try WeightSearch.writeOutputs(manifest: manifest, records: outcome.records, family: family,
                                                        directory: execution.output, bestCheckpoint: best)
            report["best_checkpoint"] = summary.bestCheckpoint ?? NSNull()
        }
        if let best = outcome.records.best(manifest.goal) {
            report["best"] = ["id": best.id, "weights": best.coordinates, "value": best.value!] as [String: Any]
        }
        try SweepReport.finish("search", bestLabel: "best weights", report: report, outcome: outcome,
                               goal: manifest.goal, shard: options.shard, execution: execution)
    }
}
