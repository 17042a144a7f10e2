import ArgumentParser
import Foundation
import TVStorage
import TVTrainer

/// `deme --model …`: pretrain the starting model inside the DeMe run (train's model options and
/// defaults), into OUT/pretrained, reusing it when a rerun asks for the same model and steps.
struct DeMePretraining: ParsableArguments {
    @Option(help: "Pretrain this architecture first (mlp or unet) instead of reading --pretrained.") var model: String?
    @Option(help: "Pretraining steps (with --model).") var pretrainSteps: Int?
    @Option(help: "Pretraining peak learning rate (with --model; train's default).") var pretrainLr: Float = 1e-3
    @Option(help: "MLP: hidden width (with --model mlp; default 256).") var width: Int?
    @Option(help: "MLP: residual blocks (with --model mlp; default 4).") var blocks: Int?
    @Option(help: "MLP: sinusoidal timestep embedding size (with --model mlp; even; default 128).") var timeEmbedding: Int?
    @Option(help: "MLP: where the timestep enters, input (default) or per-block (also every block; the main job's model).")
    var timeConditioning: String?
    @Option(help: "MLP: normalisation before each block, none (default) or layer (LayerNorm; the main job's model).") var blockNorm: String?
    @OptionGroup var unet: UNetModelOptions

    var requested: Bool {
        model != nil || pretrainSteps != nil || width != nil || blocks != nil || timeEmbedding != nil
            || timeConditioning != nil || blockNorm != nil || unet.anyGiven
    }

    func runOptions(data: String, dataOptions: DataOptions, batch: Int, splitSeed: UInt64, seed: UInt64,
                    horizontalFlip: Bool = false, output: String) throws -> TrainingRun.Options {
        let arch = model ?? (unet.anyGiven ? UNet2DModel.architecture : "mlp")
        guard DenoiserArchitectures.type(named: arch) != nil else {
            throw ValidationError("--model must be one of \(DenoiserArchitectures.names.joined(separator: ", "))")
        }
        let isUNet = arch == UNet2DModel.architecture
        if isUNet {
            try MLPShapeOptions.refuseOnUNet(width: width, blocks: blocks, timeEmbedding: timeEmbedding,
                                             timeConditioning: timeConditioning, blockNorm: blockNorm)
        }
        if !isUNet, unet.anyGiven { throw ValidationError("--config and the UNet options need --model unet") }
        let timeKind = try MLPShapeOptions.timeConditioning(timeConditioning)
        let normKind = try MLPShapeOptions.blockNorm(blockNorm)
        let embedding = timeEmbedding ?? 128
        guard embedding > 0, embedding % 2 == 0 else { throw ValidationError("--time-embedding must be a positive even number") }
        let steps = pretrainSteps ?? 8000
        guard steps > 0, pretrainLr > 0 else { throw ValidationError("--pretrain-steps and --pretrain-lr must be positive") }
        let path = URL(fileURLWithPath: output).appendingPathComponent(isUNet ? "pretrained" : "pretrained.safetensors").path
        var o = TrainingRun.Options(output: path)
        o.data = data; o.dataOptions = dataOptions; o.steps = steps; o.splitSeed = splitSeed; o.checkpointEvery = 1000
        o.model = ModelConfig(hiddenWidth: width ?? 256, blocks: blocks ?? 4, timeEmbedding: embedding, architecture: arch,
                              timeConditioning: timeKind, blockNorm: normKind)
        if isUNet { o.model.unet = try unet.settings() }
        o.settings = TrainingSettings(batchSize: batch, optimizer: AdamWSettings(learningRate: pretrainLr),
                                      learningRate: LearningRateSchedule(warmupSteps: 100), seed: seed)
        if horizontalFlip { o.settings.horizontalFlip = true }
        return o
    }

    /// Trains OUT/pretrained unless a finished one with the same model and settings is there; an
    /// unfinished one (its resume state present) is continued.
    static func run(_ options: TrainingRun.Options) throws {
        var o = options
        // OUT may not exist yet: the MLP's OUT/pretrained.safetensors is a file inside it.
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: o.output).deletingLastPathComponent(),
                                                withIntermediateDirectories: true)
        let state = TrainingState.path(forModel: o.output)
        let config = try DatasetLoader.load(o.data, options: o.dataOptions).fittedConfig(o.model)
        if FileManager.default.fileExists(atPath: state), let reader = try? Checkpoints.open(state),
           let step = reader.metadata["tvtool.step"].flatMap(Int.init),
           reader.metadata[ModelConfig.metadataKey] == config.metadataJSON(),
           reader.metadata["tvtool.training_settings"] == (try? Self.sortedJSON(withSteps(o))) {
            if step >= o.steps, FileManager.default.fileExists(atPath: o.output) {
                Console.error("deme: reusing \(o.output) (pretrained \(step) steps with the same settings)")
                return
            }
            o.resume = true
        }
        let progress = ProgressReporter(label: "pretrain", totalUnits: o.steps, unitName: "steps")
        var shown = 0
        let summary = try TrainingRun(o).run(reportEvery: 10) { p in
            progress.advance(units: p.stats.step - shown, status: String(format: "loss %.4f", p.meanLoss))
            shown = p.stats.step
        }
        progress.finish()
        Console.error(String(format: "deme: pretrained %@ (%d steps, %.1f steps/s, final loss %.4f)", o.output, summary.steps,
                             summary.stepsPerSecond, summary.finalMeanLoss))
    }

    /// The settings TrainingRun records (its learning-rate schedule spans the run's steps).
    static func withSteps(_ o: TrainingRun.Options) -> TrainingSettings {
        var s = o.settings
        s.learningRate.totalSteps = o.steps
        return s
    }

    static func sortedJSON<T: Encodable>(_ value: T) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try enc.encode(value), as: UTF8.self)
    }
}
