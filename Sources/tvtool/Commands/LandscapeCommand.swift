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

            Evaluators: without --eval-cmd, the built-in held-out epsilon-MSE of the trainer's model, \
            MLP or UNet (the base must be a trainer checkpoint or a diffusers UNet2DModel folder; --data, --eval-split, --eval-repeats, \
            --eval-seed; --t-range lo:hi restricts it to those timesteps, as in DeMe's per-range \
            landscapes), computed in memory. With --eval-cmd, each candidate is written to --tmp-dir and \
            the command's last stdout line is the score (a number, or JSON with --score-field); \
            failures and timeouts are recorded with the stderr tail.

            Lines (--line, or just two checkpoints): BASE C1 [C2 …] gives the piecewise-linear path \
            base -> C1 -> C2 … with checkpoint k at t = k (two checkpoints: theta(t) = base + t (C1 - base)), \
            evaluated on one --grid axis t (default -0.2:1.2:29, or -0.25 … n+0.25 for n segments) and drawn \
            as a line plot with the checkpoints marked.

            Trajectory directions (--directions pca): FINAL CKPT1 CKPT2 CKPT3 … (three or more) gives the plane through the final \
            model along the top two principal directions of CKPTi - FINAL (Li et al. 2018; Gram-matrix PCA, \
            memory O(n^2) plus one tensor per checkpoint), Euclidean coordinates; the explained variance \
            ratios are printed and each checkpoint is marked at its projection; the default grid covers the \
            projections with a 25% margin (21 x 21).

            Hessian directions (--directions hessian): BASE alone; the top two eigenvectors of the Hessian of the \
            built-in eps-MSE (--t-range etc.) at BASE, by power iteration on finite-difference Hessian-vector \
            products (central differences of gradients), written as hessian_v1/v2.safetensors (base + v) in the \
            output folder; the plane is base + x v1 + y v2 (unit vectors; default grid -1:1:21).

            Grids (the grammar of search and deme): lo:hi:N = N evenly spaced points from lo to hi; \
            lo:hi:stepS = step S (-0.2:1.2:step0.05 = -0.2:1.2:29); a,b,c = a list. One --grid for both \
            axes or two (x then y). A landscape evaluates every grid point (--dry-run prints how many); \
            points already recorded in the folder (by coordinates, same plane and evaluator) are reused, \
            so a finer grid over the same plane only evaluates the new points. --max-failures stops early; \
            each point's evaluator stdout/stderr is kept in OUTPUT/logs.

            Outputs in the folder: surface.h5 (xcoordinates, ycoordinates, values[i,j] at (x_i, y_j), axis \
            names/descriptions, basis and markers as attributes; also train_loss/test_loss[j,i] as \
            loss-landscape's plot_2D.py, plot_surface.py and h52vtp.py read them), surface.vts (VTK \
            structured grid for ParaView: z = the score, failed points hidden), surface.csv, landscape.png (heatmap, \
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
    @Argument(help: "The first finetuned checkpoint (tau_A = FT_A - base); none with --directions hessian.") var ftA: String?
    @Argument(help: "The second finetuned checkpoint (tau_B = FT_B - base); with --line, any further checkpoints of the path.")
    var more: [String] = []

    @Option(help: "pca: a plane along the top-2 principal directions of trajectory checkpoints CKPT… relative to the first (final) model; hessian: along the top-2 Hessian eigenvectors of the built-in eps-MSE at BASE.")
    var directions: String?

    @Flag(help: "A line instead of a plane: the piecewise-linear path base -> FT_A -> … (checkpoint k at t = k); implied by two checkpoints.")
    var line = false

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Grid per axis: lo:hi:N (N values), lo:hi:stepS (step S) or a,b,c; give once for both axes or twice (x, y). Default: -0.2:1.2:29 (plane), -0.25 … n+0.25 (line through n segments), the checkpoints' span + 25% (pca), -1:1:21 (hessian).", valueName: "spec"))
    var grid: [String] = []

    @Option(help: "coefficients, orthonormal or random-filter-normalized.")
    var basis: String = "coefficients"

    @Option(help: "Orthonormal basis: tau-a (coordinates in units of |tau_A|) or absolute (Euclidean length).")
    var unit: String = "tau-a"

    @Option(help: "Random basis: seed of the two directions; --directions hessian: seed of the power iterations' start vectors.")
    var seed: UInt64 = 0

    @Option(name: .customLong("power-iterations"), help: "--directions hessian: most power iterations per eigenvector (default 50).")
    var powerIterations: Int?

    @Option(name: .customLong("power-tolerance"), help: "--directions hessian: stop when the eigenvalue estimate changes by less than this, relatively (default 1e-4).")
    var powerTolerance: Double?

    @Option(name: .customLong("fd-step"), help: "--directions hessian: finite-difference step of the Hessian-vector products, relative to the RMS parameter size (default 1e-3).")
    var fdStep: Double?

    @Option(help: "Random basis: the model the plane is centred on: base, A or B.")
    var center: String = "base"

    @Option(name: .customLong("value-name"), help: "Name of the plotted quantity (default: eps_mse or score).")
    var valueName: String?

    @Option(name: .customLong("color-scale"), help: "linear or log (log falls back to linear for non-positive values).")
    var colorScale: String = "linear"

    @OptionGroup var evaluation: SweepEvaluationOptions
    @OptionGroup var execution: SweepExecutionOptions

    func run() throws {
        if directions != "hessian" && (powerIterations != nil || powerTolerance != nil || fdStep != nil) {
            throw ValidationError("--power-iterations, --power-tolerance and --fd-step apply to --directions hessian")
        }
        if let directions {
            switch directions {
            case "pca": return try runPCA()
            case "hessian": return try runHessian()
            default: throw ValidationError("--directions must be pca or hessian, not '\(directions)'")
            }
        }
        guard let ftA else { throw ValidationError("give BASE FT_A FT_B (a plane), BASE C1 … (a line) or --directions") }
        if line || more.isEmpty { return try runLine(ftA) }
        guard more.count == 1 else {
            throw ValidationError("a plane takes exactly three checkpoints (BASE FT_A FT_B); use --line for a path through more")
        }
        let ftB = more[0]
        guard let b = LandscapeBasis(rawValue: basis) else {
            throw ValidationError("--basis must be coefficients, orthonormal or random-filter-normalized")
        }
        guard unit == "tau-a" || unit == "absolute" else { throw ValidationError("--unit must be tau-a or absolute") }
        guard let scale = LandscapePlot.Scale(rawValue: colorScale) else { throw ValidationError("--color-scale must be linear or log") }
        let gridSpec = try GridSpec.parse(grid.isEmpty ? ["-0.2:1.2:29"] : grid, dimensions: 2)
        guard let options = try start(grid: gridSpec, inputs: [base, ftA, ftB]) else { return }
        let prepared = try LandscapeSweep.prepare(base: base, a: ftA, b: ftB,
                                                  plane: LandscapePlaneOptions(basis: b, unitIsTauANorm: unit == "tau-a",
                                                                               seed: seed, center: center))
        let evaluator = try evaluation.evaluator(family: prepared.family, axisNames: prepared.plane.axisNames, jobs: options.jobs,
                                                output: execution.output)
        let manifest = LandscapeSweep.manifest(plane: prepared.plane, grid: gridSpec, inputs: [base, ftA, ftB],
                                               evaluator: evaluator.summary, valueName: valueName ?? evaluation.defaultValueName,
                                               goal: evaluation.goal)
        try finish(manifest: manifest, evaluator: evaluator, options: options, scale: scale)
    }

    /// The path through two or more checkpoints, over one --grid axis t.
    func runLine(_ ftA: String) throws {
        guard let scale = LandscapePlot.Scale(rawValue: colorScale) else { throw ValidationError("--color-scale must be linear or log") }
        guard basis == "coefficients" else { throw ValidationError("--basis applies to planes, not to --line") }
        let paths = [base, ftA] + more
        guard grid.count <= 1 else { throw ValidationError("--line takes one --grid (the t axis), got \(grid.count)") }
        let gridSpec = try GridSpec.parse(lineGrid(segments: paths.count - 1), dimensions: 1)
        guard let options = try start(grid: gridSpec, inputs: paths) else { return }
        let prepared = try InterpolationLine.prepare(checkpoints: paths)
        let evaluator = try evaluation.evaluator(family: prepared.family, axisNames: prepared.plane.axisNames, jobs: options.jobs,
                                                output: execution.output)
        let manifest = LandscapeSweep.manifest(plane: prepared.plane, grid: gridSpec, inputs: paths,
                                               evaluator: evaluator.summary, valueName: valueName ?? evaluation.defaultValueName,
                                               goal: evaluation.goal)
        try finish(manifest: manifest, evaluator: evaluator, options: options, scale: scale)
    }

    /// The plane along the trajectory's two principal directions, centred on the first (final) model.
    func runPCA() throws {
        guard let scale = LandscapePlot.Scale(rawValue: colorScale) else { throw ValidationError("--color-scale must be linear or log") }
        guard !line, basis == "coefficients" else { throw ValidationError("--directions pca sets the plane itself: drop --line/--basis") }
        let trajectory = (ftA.map { [$0] } ?? []) + more
        // Centred PCA of n checkpoints spans at most n - 1 directions: a plane needs three.
        guard trajectory.count >= 3 else {
            throw ValidationError("--directions pca needs the final model and at least three trajectory checkpoints (centred PCA of n checkpoints spans n - 1 directions), got \(trajectory.count)")
        }
        // Reads only; the default grid comes from the checkpoints' projections.
        let prepared = try TrajectoryDirections.prepare(base: base, checkpoints: trajectory)
        let gridSpec = try GridSpec.parse(grid.isEmpty ? pcaGrid(prepared.plane.markers) : grid, dimensions: 2)
        guard let options = try start(grid: gridSpec, inputs: [base] + trajectory) else { return }
        if !execution.json && !execution.quiet {
            let r = prepared.pca.explainedVarianceRatio
            Console.error(String(format: "pca: explained variance ratio %.4f (1st PC), %.4f (2nd PC) of %d checkpoints", r[0], r[1], trajectory.count))
        }
        let evaluator = try evaluation.evaluator(family: prepared.family, axisNames: prepared.plane.axisNames, jobs: options.jobs,
                                                output: execution.output)
        let manifest = LandscapeSweep.manifest(plane: prepared.plane, grid: gridSpec, inputs: [base] + trajectory,
                                               evaluator: evaluator.summary, valueName: valueName ?? evaluation.defaultValueName,
                                               goal: evaluation.goal)
        try finish(manifest: manifest, evaluator: evaluator, options: options, scale: scale,
                   extra: ["explained_variance_ratio": prepared.pca.explainedVarianceRatio,
                           "explained_variance": prepared.pca.explainedVariance])
    }

    /// The plane along the top two Hessian eigenvectors of the built-in objective at BASE.
    func runHessian() throws {
        guard let scale = LandscapePlot.Scale(rawValue: colorScale) else { throw ValidationError("--color-scale must be linear or log") }
        guard ftA == nil, !line, basis == "coefficients" else { throw ValidationError("--directions hessian takes only BASE (no other checkpoints, --line or --basis)") }
        guard evaluation.evalCommand == nil else { throw ValidationError("--directions hessian uses the built-in eps-MSE objective: drop --eval-cmd") }
        let gridSpec = try GridSpec.parse(grid.isEmpty ? ["-1:1:21"] : grid, dimensions: 2)
        let power = try hessianOptions()
        guard let options = try start(grid: gridSpec, inputs: [base],
                                      extraOutputs: ["hessian_v1.safetensors", "hessian_v2.safetensors"]) else { return }
        let reader = try Checkpoints.open(base)
        let objective = try EpsilonMSEEvaluator(family: try LinearFamily(base: reader, models: []), data: evaluation.data,
                                                split: evaluation.evalSplit, repeats: evaluation.evalRepeats, seed: evaluation.evalSeed,
                                                range: try evaluation.tRange.map { try EpsilonMSEEvaluator.parseRange($0) })
        let prepared = try HessianPlane.prepare(base: base, evaluator: objective, directory: execution.output, options: power)
        if !execution.json && !execution.quiet {
            let e = prepared.eigen
            Console.error("hessian: eigenvalues \(e.eigenvalues[0]) (v1, \(e.iterations[0]) iterations\(e.converged[0] ? "" : ", not converged")), \(e.eigenvalues[1]) (v2, \(e.iterations[1]) iterations\(e.converged[1] ? "" : ", not converged"))")
        }
        let evaluator = try evaluation.evaluator(family: prepared.family, axisNames: prepared.plane.axisNames, jobs: options.jobs,
                                                output: execution.output)
        let manifest = LandscapeSweep.manifest(plane: prepared.plane, grid: gridSpec, inputs: [base],
                                               evaluator: evaluator.summary, valueName: valueName ?? evaluation.defaultValueName,
                                               goal: evaluation.goal)
        try finish(manifest: manifest, evaluator: evaluator, options: options, scale: scale,
                   extra: ["hessian_eigenvalues": prepared.eigen.eigenvalues, "hessian_iterations": prepared.eigen.iterations,
                           "hessian_converged": prepared.eigen.converged, "hessian_directions": prepared.eigen.directionFiles])
    }

    /// What every path does before its work: the run options, the evaluator's settings, every file
    /// the landscape writes checked against every input, and with --dry-run the cost (nil: stop).
    func start(grid gridSpec: GridSpec, inputs: [String], extraOutputs: [String] = []) throws -> SweepRunOptions? {
        let options = try execution.runOptions()
        try evaluation.validate()
        let folder = URL(fileURLWithPath: execution.output)
        try OutputGuard.check(outputs: (["surface.h5", "surface.csv", "landscape.png", "surface.vts"] + extraOutputs)
                                  .map { folder.appendingPathComponent($0).path }
                                  + [SweepSession.recordsPath(directory: execution.output, shard: options.shard)],
                              inputs: inputs)
        if execution.dryRun {
            let report = SweepReport.dryRun("landscape", spec: try SearchSpec(strategy: .grid, grid: gridSpec), output: execution.output)
            if execution.json { SweepReport.printJSON(report) }
            return nil
        }
        return options
    }

    /// The default grid of a PCA plane (Euclidean units): the checkpoints' projections plus 25% margin, 21 points per axis.
    func pcaGrid(_ markers: [PlaneMarker]) -> [String] {
        [markers.map(\.x), markers.map(\.y)].map { v in
            let lo = v.min() ?? 0, hi = v.max() ?? 0, m = max((hi - lo) * 0.25, 1e-6)
            return "\(lo - m):\(hi + m):21"
        }
    }

    /// The default grid of a line covers every checkpoint with a margin: -0.25 … n + 0.25.
    func lineGrid(segments n: Int) -> [String] {
        guard grid.isEmpty else { return grid }
        return n > 1 ? ["-0.25:\(Double(n) + 0.25):\(12 * n + 7)"] : ["-0.2:1.2:29"]
    }

    /// The power-iteration settings of --directions hessian (usage mistakes exit 1).
    func hessianOptions() throws -> HessianPlane.Options {
        var o = HessianPlane.Options()
        o.seed = seed
        if let n = powerIterations {
            guard n >= 1 else { throw ValidationError("--power-iterations must be at least 1, not \(n)") }
            o.maxIterations = n
        }
        if let t = powerTolerance {
            guard t.isFinite, t > 0 else { throw ValidationError("--power-tolerance must be a positive number, not \(t)") }
            o.tolerance = t
        }
        if let h = fdStep {
            guard h.isFinite, h > 0 else { throw ValidationError("--fd-step must be a positive number, not \(h)") }
            o.relativeStep = h
        }
        return o
    }

    func finish(manifest: SweepManifest, evaluator: any PointEvaluator, options: SweepRunOptions, scale: LandscapePlot.Scale,
                extra: [String: Any] = [:]) throws {
        let outcome = try SweepSession.run(manifest: manifest, evaluator: evaluator, directory: execution.output, options: options)
        var report: [String: Any] = ["evaluated": outcome.evaluated, "failed": outcome.failed, "non_finite": outcome.nonFinite, "skipped": outcome.skipped,
                                     "records": SweepSession.recordsPath(directory: execution.output, shard: options.shard)]
        report.merge(extra) { a, _ in a }
        if options.shard.isWhole {
            let out = try LandscapeSweep.writeOutputs(manifest: manifest, records: outcome.records, directory: execution.output, scale: scale)
            report["surface"] = out.surface; report["csv"] = out.csv; report["plot"] = out.plot; report["vts"] = out.vts
        }
        // Checkpoints outside the grid are drawn clamped to the frame; say where they really are.
        let offGrid = LandscapeSurface.from(manifest: manifest, records: outcome.records).offGridMarkers
        let coordinates: (PlaneMarker) -> [Double] = { manifest.axisNames.count == 1 ? [$0.x] : [$0.x, $0.y] }
        report["off_grid"] = offGrid.map { ["label": $0.label, "coordinates": coordinates($0)] as [String: Any] }
        if !execution.json && !execution.quiet {
            for m in offGrid {
                let at = coordinates(m).map { "\($0)" }.joined(separator: ", ")
                Console.error("note: \(m.label) lies outside the grid at (\(manifest.axisNames.joined(separator: ", "))) = (\(at)); drawn at the frame's edge")
            }
        }
        if let best = outcome.used.best(manifest.goal) {
            report["best"] = ["id": best.id, "coordinates": best.coordinates, "value": best.value!] as [String: Any]
        }
        try SweepReport.finish("landscape", bestLabel: "best:", report: report, outcome: outcome,
                               goal: manifest.goal, shard: options.shard, execution: execution)
    }
}
