import ArgumentParser
import Foundation
import TVStorage
import TVTrainer

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Pretrain a diffusion model (the bundled MLP or a diffusers UNet2DModel; DDPM, epsilon prediction) on images.",
        discussion: """
            Trains on the training part of a fixed seeded split (the two held-out sets used by \
            `eval` and `deme` are never trained on). Writes the EMA weights to OUTPUT as safetensors \
            (PyTorch names, model config in the metadata) and the resume state (raw weights, AdamW \
            moments, step, generator) to OUTPUT minus .safetensors plus .train-state.safetensors. \
            Reproducible for a given --seed and --threads.

            --data: `digits` (bundled 8×8 digits), `cifar10:FOLDER` (CIFAR-10's python or binary \
            training batches), a .npy file, a checkpoint tensor (FILE or FILE:TENSOR, N×C×H×W / \
            N×H×W / N×D, uint8 or float in [-1,1]), or a folder of PNGs (any colour type and bit \
            depth; alpha dropped; RGB if any image has colour). --image-size S (or WxH) checks the \
            size; with --resize images are resized to it instead (Pillow BILINEAR, shorter side \
            to S, centre crop). --hflip flips each drawn image left-right with probability 1/2.

            Examples:
              tvtool train --data digits --steps 8000 -o pretrained.safetensors
              tvtool train --data digits --steps 12000 -o pretrained.safetensors --resume
              tvtool train --data faces.npy --width 512 --blocks 6 --steps 20000 -o faces.safetensors
              tvtool train --model mlp --time-conditioning per-block --block-norm layer -o blocks.safetensors
              tvtool train --data cifar10:cifar-10-batches-py --hflip -o cifar.safetensors
              tvtool train --data photos/ --image-size 32 --resize --hflip -o photos.safetensors
              tvtool train --model unet --data cifar10:cifar-10-batches-py --block-out-channels 32,64 --layers-per-block 1 -o unet/
              tvtool train --model unet --config ddpm-cifar10-32/config.json --data cifar10:cifar-10-batches-py -o ddpm/

            --time-conditioning per-block adds, inside every block, a learned projection of \
            silu(temb) after the first linear layer (like ResnetBlock2D's time_emb_proj); \
            --block-norm layer puts a LayerNorm before every block. Both are recorded in the \
            checkpoint, so finetune/eval/sample/deme need no flags to load such a model.

            --model unet trains diffusers' UNet2DModel. Its settings: --config FILE (a diffusers \
            config.json), or --block-out-channels, --layers-per-block, --attention-levels, \
            --norm-groups, --attention-head-dim; sample_size and in/out_channels come from the data \
            (a config.json's must match it: exit 2 otherwise). MLP options (--width, --blocks, \
            --time-embedding, --time-conditioning, --block-norm) are refused with --model unet, and \
            UNet options with --model mlp. A UNet's OUTPUT without a file extension (e.g. unet/) is \
            written as a diffusers folder (config.json + diffusion_pytorch_model.safetensors, which \
            UNet2DModel.from_pretrained loads; tvtool's config rides in the weights' metadata) with \
            the resume state beside it (unet.train-state.safetensors); OUTPUT.safetensors is \
            tvtool's single file. --threads 2 splits each batch into two halves on two cores.
            """)

    @Option(help: "Training data (see above).") var data = "digits"
    @OptionGroup var dataShape: DataShapeOptions
    @Flag(help: "Random horizontal flips of training images (p = 1/2).") var hflip = false
    @Option(help: "Optimiser steps to reach (with --resume: total, including the steps already done).") var steps = 8000
    @Option(name: [.short, .customLong("output")], help: "Output model (.safetensors; a UNet without extension: a diffusers folder).") var output: String
    @Option(help: "Architecture (recorded in the checkpoint): mlp or unet.") var model = "mlp"
    @Option(help: "Hidden width of the MLP (default 256).") var width: Int?
    @Option(help: "Residual blocks of the MLP (default 4).") var blocks: Int?
    @Option(help: "Sinusoidal timestep embedding size of the MLP (even; default 128).") var timeEmbedding: Int?
    @Flag(help: "Insert DeMe's identity-initialised channel-wise projections (MLP: d×d after each block; UNet: 1×1 convs, docs/trainer.md).") var projections = false
    @Option(help: "Where the timestep enters the MLP: input (once, at the input; default) or per-block (also every block).")
    var timeConditioning: String?
    @Option(help: "Normalisation before each MLP block: none (default) or layer (LayerNorm).") var blockNorm: String?
    @OptionGroup var unet: UNetModelOptions
    @Option(help: "Beta schedule: linear or cosine.") var schedule: String = "linear"
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Peak learning rate.") var lr: Float = 1e-3
    @Option(help: "Linear warm-up steps.") var warmup = 100
    @Option(help: "LR shape after warm-up: constant or cosine.") var lrSchedule = "constant"
    @Option(help: "AdamW beta1.") var beta1: Float = 0.9
    @Option(help: "AdamW beta2.") var beta2: Float = 0.999
    @Option(help: "AdamW decoupled weight decay.") var weightDecay: Float = 0
    @Option(help: "AdamW epsilon.") var adamEps: Float = 1e-8
    @Option(help: "Gradient-norm clip (0: off).") var clip: Float = 1
    @Option(help: "EMA maximum decay (0 = no EMA, as --no-ema).") var emaDecay: Double = 0.9999
    @Option(help: "EMA warm-up power: decay = min(max, 1 - n^-power).") var emaPower: Double = 0.75
    @Flag(help: "Save the raw weights instead of an EMA.") var noEma = false
    @Option(help: "Seed for initialisation, batches, timesteps and noise.") var seed: UInt64 = 0
    @Option(help: "Seed of the train/held-out split.") var splitSeed: UInt64 = 0
    @Option(help: "Compute threads (2 or more: each batch in two data-parallel halves, see above).") var threads = 1
    @Option(help: "Checkpoint every N steps (0: only at the end).") var checkpointEvery = 1000
    @Option(help: "Output dtype: f32 or f16 (f16 halves the file).") var dtype = "f32"
    @Flag(help: "Continue from OUTPUT's .train-state.safetensors.") var resume = false
    @Flag(help: "No progress output.") var quiet = false
    @Flag(help: "Print a JSON summary on stdout.") var json = false

    func run() throws {
        guard let kind = BetaSchedule(rawValue: schedule) else { throw ValidationError("--schedule must be linear or cosine") }
        guard let shape = LearningRateSchedule.Shape(rawValue: lrSchedule) else { throw ValidationError("--lr-schedule must be constant or cosine") }
        guard let dt = DType(userName: dtype), dt == .f32 || dt == .f16 || dt == .bf16 else { throw ValidationError("--dtype must be f32, f16 or bf16") }
        guard DenoiserArchitectures.type(named: model) != nil else {
            throw ValidationError("--model must be one of \(DenoiserArchitectures.names.joined(separator: ", "))")
        }
        let timeKind = try MLPShapeOptions.timeConditioning(timeConditioning)
        let normKind = try MLPShapeOptions.blockNorm(blockNorm)
        let width = self.width ?? 256, blocks = self.blocks ?? 4, timeEmbedding = self.timeEmbedding ?? 128
        guard steps > 0, batch > 0, width > 0, blocks >= 0, threads > 0 else { throw ValidationError("sizes must be positive") }
        let isUNet = model == UNet2DModel.architecture
        if isUNet {
            try MLPShapeOptions.refuseOnUNet(width: self.width, blocks: self.blocks, timeEmbedding: self.timeEmbedding,
                                             timeConditioning: timeConditioning, blockNorm: blockNorm)
        } else if unet.anyGiven {
            throw ValidationError("--config and the UNet options need --model unet")
        }
        // The model and its resume state are written; the data (a file, or a built-in name) is read.
        try OutputGuard.check(outputs: [output, TrainingState.path(forModel: output)], inputs: [data])
        var o = TrainingRun.Options(output: output)
        o.dataOptions = try dataShape.options()
        o.data = data; o.steps = steps; o.checkpointEvery = checkpointEvery; o.resume = resume
        o.dtype = dt; o.splitSeed = splitSeed; o.threads = threads
        o.model = ModelConfig(hiddenWidth: width, blocks: blocks, timeEmbedding: timeEmbedding, projections: projections, schedule: kind,
                              architecture: model, timeConditioning: timeKind, blockNorm: normKind)
        if isUNet { o.model.unet = try unet.settings() }
        o.settings = TrainingSettings(
            batchSize: batch,
            optimizer: AdamWSettings(learningRate: lr, beta1: beta1, beta2: beta2, weightDecay: weightDecay, epsilon: adamEps,
                                     gradientClip: clip > 0 ? clip : nil),
            learningRate: LearningRateSchedule(shape: shape, warmupSteps: warmup, totalSteps: steps),
            ema: noEma || emaDecay == 0 ? nil : ExponentialMovingAverage.Settings(maxDecay: emaDecay, power: emaPower),
            seed: seed)
        if hflip { o.settings.horizontalFlip = true }
        let progress = ProgressReporter(label: "train", totalUnits: steps, unitName: "steps", enabled: !quiet)
        let start = Date()
        var firstStep: Int?
        var shown = 0
        var lastLine = Date()
        // A UNet step takes far longer than an MLP step: report every 10 steps, and in logs also every 30 s.
        let every = isUNet ? 10 : 50
        let summary = try TrainingRun(o).run(reportEvery: every) { p in
            if firstStep == nil { firstStep = p.stats.step - every }
            progress.advance(units: p.stats.step - shown, status: String(format: "loss %.4f", p.meanLoss))
            shown = p.stats.step
            if !quiet && !Console.stderrIsTerminal
                && (p.stats.step % 1000 == 0 || p.stats.step == p.totalSteps || Date().timeIntervalSince(lastLine) >= 30) {
                lastLine = Date()
                let rate = Double(p.stats.step - (firstStep ?? 0)) / max(Date().timeIntervalSince(start), 1e-9)
                let eta = Double(p.totalSteps - p.stats.step) / max(rate, 1e-9)
                Console.error(String(format: "step %d/%d  loss %.4f  %.1f it/s  ETA %@", p.stats.step, p.totalSteps, p.meanLoss, rate,
                                     ByteFormat.duration(eta)))
            }
        }
        progress.finish()
        if json {
            print(try JSONText.encode(codable: summary))
        } else {
            print(String(format: "wrote %@ (step %d, %.1f steps/s, final loss %.4f; resume state %@)", summary.output, summary.steps,
                         summary.stepsPerSecond, summary.finalMeanLoss, summary.trainState))
        }
    }
}
