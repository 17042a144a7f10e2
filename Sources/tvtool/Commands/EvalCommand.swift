import ArgumentParser
import Foundation
import TVStorage
import TVTrainer

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Held-out epsilon-MSE (overall and per timestep range) and sample Fréchet distance of a model.",
        discussion: """
            Epsilon-MSE uses a fixed set of (x0, t, noise) triples on a held-out set of the standard \
            seeded split (--eval-split 1, the search set, by default; 2 is the report set): 16 triples per image with t \
            stratified over [0, T), so the overall value is uniform over t; standard errors are over \
            images. Deterministic for given seeds. The Fréchet distance compares --fd-samples \
            generated samples (DDIM, --sampling-seed) with the training images, in pixel space.

            Examples:
              tvtool eval pretrained.safetensors --data digits
              tvtool eval merged.safetensors --data digits --ranges 4 --json
              tvtool eval model.safetensors --data digits --fd-samples 0
              tvtool eval ddpm-cifar10-32/ --data cifar10:cifar-10-batches-py --fd-samples 0 --threads 2

            MODEL may be a diffusers UNet2DModel folder (config.json + .safetensors or .bin weights, \
            e.g. laid out like google/ddpm-cifar10-32; linear DDPM schedule unless tvtool's metadata \
            says otherwise). With --threads 2 a UNet is evaluated in two data-parallel halves.
            """)

    @Argument(help: "Model checkpoint, or a diffusers UNet2DModel folder.") var model: String
    @Option(help: "Data the model was trained on (as for train).") var data = "digits"
    @OptionGroup var dataShape: DataShapeOptions
    @Option(help: "Number of equal timestep ranges to report.") var ranges = 4
    @Option(name: .customLong("eval-split"), help: "Held-out split: 1 (the search/validation set, default, as for search, landscape and deme's weight search) or 2 (the report set: use it for final numbers only).") var evalSplit = 1
    @Option(help: "Seed of the (x0, t, noise) triples.") var evalSeed: UInt64 = 0
    @Option(help: "Seed of the train/held-out split.") var splitSeed: UInt64 = 0
    @Option(help: "Samples for the Fréchet distance (0: skip).") var fdSamples = 1000
    @Option(help: "Seed of the samples for the Fréchet distance.") var samplingSeed: UInt64 = 0
    @Option(help: "DDIM steps for the Fréchet samples.") var samplingSteps = 50
    @Option(help: "OpenBLAS threads.") var threads = 1
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        guard ranges > 0, fdSamples >= 0, samplingSteps > 0, threads > 0 else { throw ValidationError("counts must be positive") }
        guard evalSplit == 1 || evalSplit == 2 else { throw ValidationError("--eval-split must be 1 or 2, not \(evalSplit)") }
        BLASThreads.set(threads)
        let loaded = try ModelCheckpoint.load(model)
        let denoiser = ModelThreads.denoiser(loaded, threads: threads)
        var o = ModelEvaluation.Options()
        o.ranges = ranges; o.heldOutSet = evalSplit; o.evaluationSeed = evalSeed; o.splitSeed = splitSeed
        o.frechetSamples = fdSamples; o.samplingSeed = samplingSeed; o.sampler = .ddim(steps: samplingSteps, eta: 0)
        let progress = StageProgress(enabled: !quiet)
        let report = try ModelEvaluation.run(denoiser, schedule: loaded.config.makeSchedule(), data: try dataShape.load(data), options: o,
                                             progress: progress.update)
        progress.finish()
        if json {
            print(try JSONText.encode(codable: report))
            return
        }
        print("model \(model) on \(report.data): held-out split \(evalSplit), \(report.heldOutImages) images × \(report.triplesPerImage) triples (seed \(report.evaluationSeed))")
        print(String(format: "epsilon-MSE (uniform t)  %.5f ± %.5f", report.epsilonMSE, report.standardError))
        for r in report.ranges { print("  t in " + r.range.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: " %.5f ± %.5f", r.epsilonMSE, r.standardError)) }
        if let fd = report.frechetDistance {
            print(String(format: "Fréchet distance (pixels) %.4f  (%d samples, %@, sampling seed %llu, vs %d training images)",
                         fd, report.frechetSamples, report.sampler, report.samplingSeed, report.frechetReferenceImages))
        }
    }
}
