import ArgumentParser
import Foundation
import TVDeMe
import TVSearch
import TVStorage
import TVTrainer

/// `tvtool deme`: the whole Decouple-then-Merge pipeline and its report.
struct DeMeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deme",
        abstract: "Run DeMe end to end: range finetunes, weight search, merged model, and an honest report.",
        discussion: """
            Finetunes the pretrained model on N equal timestep ranges (reusing finished finetunes in \
            OUT/finetunes when rerun with the same options), searches the task-arithmetic weights \
            theta + sum_i w_i tau_i on one held-out image set, and reports on a second, image-disjoint \
            set: pretrained; an equal-budget plain finetune (N×K steps on all timesteps, same optimiser, its own --plain-lr); \
            that finetune interpolated toward the pretrained model with the same weight search; the \
            DeMe ensemble (model i for t in R_i); DeMe merged. Held-out eps-MSE (uniform over t, and per \
            range) with paired standard errors over images; Fréchet distance of samples with its spread \
            over sampling seeds. "Beats" means by more than 2 SE. Writes OUT/report.md, report.json, \
            merged.safetensors (for a UNet the diffusers folder merged/, as are its finetunes), \
            search_*.csv/.jsonl and samples_*.png.

            Examples:
              tvtool deme --data digits --ranges 4 --steps-per-range 2000 --p 0.5 -o out/
              tvtool deme --data digits --grid 0:1:11 --strategy grid --refine 0 --ablate -o out/
              tvtool deme --pretrained ddpm-cifar10-32/ --data cifar10:cifar-10-batches-py --fd-seeds '' -o out/
              tvtool deme --model unet --block-out-channels 32,64 --pretrain-steps 8000 --data cifar10:cifar-10-batches-py --hflip -o out/
              tvtool deme --model mlp --time-conditioning per-block --block-norm layer --pretrain-steps 8000 -o out/

            --pretrained may be a diffusers UNet2DModel folder (config.json + .safetensors or .bin). \
            Without --pretrained the bundled digits model (\(BundledPretrained.relativePath)) is used; with --model (mlp or unet, with train's model options: --config FILE or \
            --block-out-channels …; for the MLP --width, --blocks, --time-embedding, --time-conditioning, --block-norm) it first pretrains that model on the \
            training part of the data for --pretrain-steps steps (train's defaults: AdamW lr \
            --pretrain-lr, warm-up 100, EMA) into OUT/pretrained (a diffusers folder for a UNet, \
            OUT/pretrained.safetensors for the MLP), reused when rerun with the same settings.

            Weight search: the grid grammar, strategies and refinement rule of 'tvtool search' (see its \
            --help and docs/sweeps.md): --grid 0:1:5 = 5 values per weight; default strategy \
            \(SearchStrategy.default.rawValue) (coordinate descent on the grid) then --refine rounds around the best point, \
            never outside the grid's bounds. Every evaluated point is in OUT/search_*.jsonl (resumed on rerun \
            when the finetunes are unchanged) and OUT/search_*.csv (the columns of search's results.csv). \
            --dry-run prints how many evaluations each weight search costs.

            --merge-granularity: block (see the study in docs/deme.md; default model) = one weight \
            per range model and layer group (--block-groups, default auto: for the MLP IN, B0…B3, OUT; for a \
            UNet IN, D0…, MID, U0…, OUT, one group per down/up block), searched with \
            --strategy from the per-model optimum on --block-grid (no refinement rounds); model = DeMe's \
            own merge, one weight per range model; routed = the \
            ensemble's routing distilled per group (each range model's share of a group is the gain on \
            its own range from that group's task vector alone), one common scale searched. With block or \
            routed the report adds the per-model merge as a row and verdict (docs/deme.md, "Per-block \
            weights").
            """)

    @Option(help: "Training data: digits, cifar10:FOLDER, a .npy/.safetensors/.h5 tensor, or a folder of PNGs.") var data = "digits"
    @OptionGroup var dataShape: DataShapeOptions
    @Flag(help: "Random horizontal flips of training images (p = 1/2, DDPM's augmentation) in every finetune and in --model's pretraining.")
    var hflip = false
    @Option(help: "Pretrained trainer checkpoint or diffusers UNet2DModel folder (default: the bundled \(BundledPretrained.relativePath)).") var pretrained: String?
    @OptionGroup var pretraining: DeMePretraining
    @Option(help: "Number of equal timestep ranges N.") var ranges = 4
    @Option(help: "Finetuning steps per range K (the plain baseline gets N×K).") var stepsPerRange = 2000
    @Option(name: .customLong("p"), help: "Probability per batch of sampling t from the whole [0, T) (0.5: chosen by measurement, docs/deme.md).") var p = 0.5
    @Option(help: "Consistency-loss weight (0 = off).") var consistency: Float = 1
    @Flag(inversion: .prefixedNo, help: "Channel-wise projections.") var projections = true
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Learning rate of DeMe's range finetunes (AdamW, constant; 5e-5 chosen by measurement, docs/deme.md; other optimiser settings as deme.md).") var lr: Float = 5e-5
    @Option(help: "Learning rate of the plain baseline (2e-4: chosen for it by the same rule, so both methods are tuned alike; give the same value as --lr to compare at one lr).") var plainLr: Float = 2e-4
    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Weight grid: lo:hi:N (N values), lo:hi:stepS (step S) or a,b,c; once for all weights or once per range.", valueName: "spec"))
    var grid: [String] = ["0:1:5"]
    @Option(help: ArgumentHelp("Weight search strategy: grid, coord, random, sobol or cmaes (see 'tvtool search --help').", valueName: "name"))
    var strategy: String = SearchStrategy.default.rawValue
    @Option(name: .customLong("max-evals"), help: "Evaluate at most this many weight vectors per search (required by random, sobol and cmaes).") var maxEvals: Int?
    @Option(help: "Coarse-to-fine rounds after the strategy (each halves the step around the best point, clamped to the grid's bounds).") var refine = 2
    @Option(name: .customLong("refine-points"), help: "Values per weight in each refinement round (odd).") var refinePoints = 3
    @Flag(name: .customLong("refine-beyond-bounds"), help: "Let refinement rounds leave the grid's [min, max].") var refineBeyondBounds = false
    @Option(name: .customLong("search-seed"), help: "Seed of the random, sobol and cmaes strategies.") var searchSeed: UInt64 = 0
    @Flag(name: .customLong("dry-run"), help: "Print how many evaluations the weight searches cost, then stop.") var dryRun = false
    @Option(name: .customLong("merge-granularity"), help: "model (default: one weight per range model, DeMe's own merge), block (per model and layer group) or routed (distilled routing per group).") var mergeGranularity = "model"
    @Option(name: .customLong("block-groups"), help: "Layer groups of --merge-granularity block/routed: auto (default: mlp or unet by the model), mlp (IN, B0…Bn, OUT), unet (IN, D0…, MID, U0…, OUT) or top.") var blockGroups = "auto"
    @Option(name: .customLong("block-grid"), help: ArgumentHelp(
        "With --merge-granularity block: the values every per-block weight may take, as lo:hi:N (N evenly spaced values, ends included), lo:hi:stepS or a list a,b,c; each range model's axes also get its per-model optimum, where the search starts. E.g. --block-grid 0:1.5:7 (0, 0.25, …, 1.5) or --block-grid 0,0.5,1.",
        valueName: "spec")) var blockGrid = "0:1:17"
    @Option(help: "Search objective: mse (held-out eps-MSE, default) or frechet (samples).") var objective = "mse"
    @Option(help: "Concurrent finetunes and candidate evaluations.") var jobs = 2
    @Option(help: "Evaluation timesteps per image and range.") var evalTimesteps = 4
    @Option(help: "Samples per Fréchet distance.") var fdSamples = 500
    @Option(help: "Sampling seeds for the Fréchet distance (comma-separated; empty = skip).") var fdSeeds = "1,2,3"
    @Option(help: "DDIM steps for sampling (eta 0).") var samplingSteps = 50
    @Flag(help: "Add the ablation rows (N=1 plain; + probabilistic sampling; + consistency; + projection).") var ablate = false
    @Option(help: "Seed of finetunes and evaluation sets.") var seed: UInt64 = 0
    @Option(help: "Training/held-out split seed (default: the one recorded in the pretrained checkpoint, else 0).") var splitSeed: UInt64?
    @Option(name: .shortAndLong, help: "Output folder.") var output = "out"
    @Flag(help: "Print the report to stdout as JSON (report.json's content with snake_case keys, like every --json output).") var json = false

    func run() throws {
        if pretrained != nil && pretraining.requested {
            throw ValidationError("--pretrained names the starting model; --model/--pretrain-steps and the model options train one instead: give one or the other")
        }
        let pretrainOptions = pretraining.requested ? try pretraining.runOptions(data: data, dataOptions: try dataShape.options(), batch: batch,
                                                                                 splitSeed: splitSeed ?? 0, seed: seed,
                                                                                 horizontalFlip: hflip, output: output) : nil
        guard let path = pretrainOptions?.output ?? pretrained ?? BundledPretrained.path() else {
            throw DeMeError.invalidArgument("no --pretrained given and \(BundledPretrained.relativePath) not found (run from the repository or set TVTOOL_DEME_PRETRAINED)")
        }
        var o = DeMeOptions()
        o.ranges = ranges
        o.stepsPerRange = stepsPerRange
        o.globalProbability = p
        o.consistencyWeight = consistency
        o.projections = projections
        o.batchSize = batch
        o.horizontalFlip = hflip
        o.optimizer.learningRate = lr
        o.plainLearningRate = plainLr
        o.grid = try grid.map { try AxisSpec.parse($0) }
        guard let s = SearchStrategy(rawValue: strategy) else {
            throw ValidationError("--strategy must be one of \(SearchStrategy.allCases.map(\.rawValue).joined(separator: ", ")), not '\(strategy)'")
        }
        o.strategy = s
        o.maxEvals = maxEvals
        o.refinements = refine
        o.refinePoints = refinePoints
        o.refineBeyondBounds = refineBeyondBounds
        o.searchSeed = searchSeed
        guard let obj = DeMeOptions.Objective(rawValue: objective) else {
            throw DeMeError.invalidArgument("--objective must be mse or frechet, not '\(objective)'")
        }
        o.objective = obj
        guard let granularity = DeMeOptions.MergeGranularity(rawValue: mergeGranularity) else {
            throw ValidationError("--merge-granularity must be one of \(DeMeOptions.MergeGranularity.allCases.map(\.rawValue).joined(separator: ", ")), not '\(mergeGranularity)'")
        }
        o.mergeGranularity = granularity
        o.blockGroups = blockGroups
        o.blockGrid = try AxisSpec.parse(blockGrid)
        o.workers = jobs
        o.evalTimestepsPerRange = evalTimesteps
        o.frechetSamples = fdSamples
        o.frechetSeeds = try fdSeeds.split(separator: ",").map {
            guard let s = UInt64($0.trimmingCharacters(in: .whitespaces)) else { throw DeMeError.invalidArgument("--fd-seeds: '\($0)' is not a seed") }
            return s
        }
        o.samplingSteps = samplingSteps
        o.ablate = ablate
        o.seed = seed
        if dryRun {
            try o.validate()
            let searches = [("DeMe weights", try o.search(weights: ranges)), ("plain interpolation", try o.search(weights: 1))]
                + (ablate ? [("ablation (each of 2)", try o.search(weights: ranges))] : [])
            for (name, spec) in searches { _ = SweepReport.dryRun("deme \(name)", spec: spec, output: nil) }
            return
        }
        if let pretrainOptions { try DeMePretraining.run(pretrainOptions) }
        let model = try ModelCheckpoint.load(path)
        // The held-out images must be ones the pretrained model never trained on: use its split.
        let recorded = try Checkpoints.open(path).metadata["tvtool.split_seed"].flatMap { UInt64($0) }
        if let recorded, let splitSeed, recorded != splitSeed {
            throw DeMeError.invalidArgument("\(path) was trained with split seed \(recorded); --split-seed \(splitSeed) would evaluate on its training images")
        }
        let split = try DatasetSplit.standard(try dataShape.load(data), seed: splitSeed ?? recorded ?? 0)
        let pipeline = try DeMePipeline(pretrained: model, pretrainedPath: path, split: split,
                                        output: URL(fileURLWithPath: output), options: o)
        let report = try pipeline.run()
        if json {
            print(try JSONText.encode(jsonData: report.json(), numericTextIn: ["configuration"]))
        } else {
            for r in report.rows + report.ablation {
                print(String(format: "%-30@ eps-MSE %.5f", r.name as NSString, r.heldOutMSE)
                      + (r.versusPretrained.map { String(format: "  Δ %+.2e ± %.1e", $0.meanDifference, $0.standardError) } ?? "")
                      + (r.frechet.map { String(format: "  FD %.3f ± %.3f", $0.mean, $0.standardDeviation) } ?? ""))
            }
            for v in report.verdicts { print(v.sentence) }
            print("wrote \(output)/report.md, report.json, " + (model.config.architecture == UNet2DModel.architecture ? "merged/" : "merged.safetensors"))
        }
    }
}
