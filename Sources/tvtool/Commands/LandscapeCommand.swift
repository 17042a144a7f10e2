import ArgumentParser
import Foundation
import TVStorage
import TVSweep

/// `tvtool landscape BASE FT_A FT_B --grid … -o DIR`: a loss (or any score) surface over the plane
/// through three models.
struct LandscapeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "landscape",
        abstract: "Evaluate a score on a grid over the plane through a base and two finetuned models.",
        discussion: """
            Bases (--basis): coefficients = theta + a*tau_A + b*tau_B (axes a, b; base at (0,0), FT_A at \
            (1,0), FT_B at (0,1)); orthonormal = Gram-Schmidt basis u, v of span{tau_A, tau_B} with Euclidean \
            coordinates x, y, measured in units of |tau_A| (FT_A at (1,0); --unit absolute for raw lengths); \
            random-filter-normalized = two seeded Gaussian directions around the --center model, each filter \
            (output row; whole tensor for 1-d) rescaled to that filter's norm in the centre (Li et al. 2018).

            Evaluators: without --eval-cmd, the built-in held-out epsilon-MSE of the bundled trainer's \
            model (the base must be a trainer checkpoint; --data, --eval-split, --eval-repeats, \
            --eval-seed; --t-range lo:hi restricts it to those timesteps, as in DeMe's per-range \
            landscapes), computed in memory. With --eval-cmd, each candidate is written to --tmp-dir and \
            the command's last stdout line is the score (a number, or JSON with --score-field); \
            failures and timeouts are recorded with the stderr tail.

            Grids (the grammar of search and deme): lo:hi:N = N evenly spaced points from lo to hi; \
            lo:hi:stepS = step S (-0.2:1.2:step0.05 = -0.2:1.2:29); a,b,c = a list. One --grid for both \
            axes or two (x then y). A landscape evaluates every grid point (--dry-run prints how many); \
            points already recorded in the folder (by coordinates, same plane and evaluator) are reused, \
            so a finer grid over the same plane only evaluates the new points. --max-failures stops early; \
            each point's evaluator stdout/stderr is kept in OUTPUT/logs.

            Outputs in the folder: surface.h5 (xcoordinates, ycoordinates, values[i,j] at (x_i, y_j), axis \
            names/descriptions, basis and markers as attributes), surface.csv, landscape.png (heatmap, \
            contours, markers, colour bar), records.jsonl (every point, appended as evaluated; rerun the \
            same command to resume). With --shard i/n only the records are written: merge them with \
            'tvtool sweep collect'.

            Examples:
              tvtool landscape pre.safetensors ft_low.safetensors ft_high.safetensors --basis orthonormal --t-range 0:250 -o land/
              tvtool landscape base.safetensors ft_a.safetensors ft_b.safetensors --grid -0.2:1.2:29 --basis orthonormal --eval-cmd 'python fid.py --ckpt {checkpoint}' -o land/
              tvtool landscape base.h5 a.h5 b.h5 --grid -1:1:21 --basis random-filter-normalized --seed 7 --eval-cmd './score.sh {checkpoint}' --jobs 2 -o land/
              tvtool landscape base.safetensors a.safetensors b.safetensors --grid -0.2:1.2:29 --eval-cmd '…' -o land/ --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT
            """)

    @Argument(help: "The base (pretrained) checkpoint.") var base: String
    @Argument(help: "The first finetuned checkpoint (tau_A = FT_A - base).") var ftA: String
    @Argument(help: "The second finetuned checkpoint (tau_B = FT_B - base).") var ftB: String

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Grid per axis: lo:hi:N (N values), lo:hi:stepS (step S) or a,b,c; give once for both axes or twice (x, y).", valueName: "spec"))
    var grid: [String] = ["-0.2:1.2:29"]

    @Option(help: "coefficients, orthonormal or random-filter-normalized.")
    var basis: String = "coefficients"

    @Option(help: "Orthonormal basis: tau-a (coordinates in units of |tau_A|) or absolute (Euclidean length).")
    var unit: String = "tau-a"

    @Option(help: "Random basis: seed of the two directions.")
    var seed: UInt64 = 0

    @Option(help: "Random basis: the model the plane is centred on: base, A or B.")
    var center: String = "base"

    @Option(name: .customLong("value-name"), help: "Name of the plotted quantity (default: eps_mse or score).")
    var valueName: String?

    @Option(name: .customLong("color-scale"), help: "linear or log (log falls back to linear for non-positive values).")
    var colorScale: String = "linear"

    @OptionGroup var evaluation: SweepEvaluationOptions
    @OptionGroup var execution: SweepExecutionOptions

    func run() throws {
        guard let b = LandscapeBasis(rawValue: basis) else {
            throw ValidationError("--basis must be coefficients, orthonormal or random-filter-normalized")
        }
        guard unit == "tau-a" || unit == "absolute" else { throw ValidationError("--unit must be tau-a or absolute") }
        guard let scale = LandscapePlot.Scale(rawValue: colorScale) else { throw ValidationError("--color-scale must be linear or log") }
        let gridSpec = try GridSpec.parse(grid, dimensions: 2)
        let options = try execution.runOptions()
        try evaluation.validate()
        if execution.dryRun {
            let report = SweepReport.dryRun("landscape", spec: try SearchSpec(strategy: .grid, grid: gridSpec), output: execution.output)
            if execution.json { SweepReport.printJSON(report) }
            return
        }
        let prepared = try LandscapeSweep.prepare(base: base, a: ftA, b: ftB,
                                                  plane: LandscapePlaneOptions(basis: b, unitIsTauANorm: unit == "tau-a",
                                                                               seed: seed, center: center))
        let evaluator = try evaluation.evaluator(family: prepared.family, axisNames: prepared.plane.axisNames, jobs: options.jobs,
                                                output: execution.output)
        let manifest = LandscapeSweep.manifest(plane: prepared.plane, grid: gridSpec, inputs: [base, ftA, ftB],
                                               evaluator: evaluator.summary, valueName: valueName ?? evaluation.defaultValueName,
                                               goal: evaluation.goal)
        let outcome = try SweepSession.run(manifest: manifest, evaluator: evaluator, directory: execution.output, options: options)
        var report: [String: Any] = ["evaluated": outcome.evaluated, "failed": outcome.failed, "skipped": outcome.skipped,
                                     "records": SweepSession.recordsPath(directory: execution.output, shard: options.shard)]
        if options.shard.isWhole {
            let out = try LandscapeSweep.writeOutputs(manifest: manifest, records: outcome.records, directory: execution.output, scale: scale)
            report["surface"] = out.surface; report["csv"] = out.csv; report["plot"] = out.plot
        }
        if let best = outcome.used.best(manifest.goal) {
            report["best"] = ["id": best.id, "coordinates": best.coordinates, "value": best.value!] as [String: Any]
        }
        try SweepReport.finish("landscape", bestLabel: "best:", report: report, outcome: outcome,
                               goal: manifest.goal, shard: options.shard, execution: execution)
    }
}
