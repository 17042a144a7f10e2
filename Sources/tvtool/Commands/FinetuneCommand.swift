import ArgumentParser
import Foundation
import TVDeMe
import TVStorage
import TVTrainer

/// `tvtool finetune`: one DeMe range finetune (decouple step) of a trainer checkpoint.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Finetune a pretrained trainer model on one timestep range (DeMe's decouple step).",
        discussion: """
            Trains a copy of PRETRAINED on timesteps in [lo, hi) with DeMe's techniques (deme.md): \
            probabilistic sampling (--p: per batch, probability of drawing t from the whole [0, T); \
            antithetic pairs t, lo+hi-1-t), the consistency loss mse(eps, eps_pretrained) against the \
            frozen pretrained model (--consistency, 0 = off), and identity-initialised channel-wise \
            projections after each block (--no-projections to turn off). Optimiser and EMA default to \
            the official code's: AdamW lr 5e-5, betas (0.95, 0.999), weight decay 1e-6, clip 1.0, EMA \
            decay min(0.9999, 1 - n^-0.75). The EMA weights are saved. With projections on, the task \
            vector base is PRETRAINED expanded with identity projections (--write-base writes it).

            Examples:
              tvtool finetune pretrained.safetensors --data digits --t-range 0:250 --steps 2000 -o ft_0_250.safetensors
              tvtool finetune ddpm-cifar10-32/ --data cifar10:cifar-10-batches-py --t-range 0:250 --steps 2000 -o ft_0_250/

            PRETRAINED may be a diffusers UNet2DModel folder (config.json + .safetensors or .bin \
            weights). A UNet's projections are bias-free 1×1 convolutions (docs/trainer.md); a UNet \
            written to OUTPUT without a file extension is a diffusers folder, OUTPUT.safetensors \
            tvtool's single file. --threads 2 trains each batch in two data-parallel halves.
            """)

    @Argument(help: "Pretrained trainer checkpoint (.safetensors made by `tvtool train`) or a diffusers UNet2DModel folder.") var pretrained: String
    @Option(help: "Training data: digits, cifar10:FOLDER, a .npy/.safetensors/.h5 tensor, or a folder of PNGs.") var data = "digits"
    @OptionGroup var dataShape: DataShapeOptions
    @Flag(help: "Random horizontal flips of training images (p = 1/2, DDPM's augmentation; recorded in the output's options).") var hflip = false
    @Option(name: .customLong("t-range"), help: "Timestep range lo:hi (half-open).") var tRange: String
    @Option(help: "Optimiser steps.") var steps: Int
    @Option(name: .customLong("p"), help: "Probability per batch of sampling t from the whole [0, T).") var p = 0.3
    @Option(help: "Weight of the consistency loss (0 turns it off).") var consistency: Float = 1
    @Flag(inversion: .prefixedNo, help: "Train identity-initialised channel-wise projections.") var projections = true
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Learning rate (constant).") var lr: Float = 5e-5
    @Option(help: "AdamW beta1.") var beta1: Float = 0.95
    @Option(help: "AdamW beta2.") var beta2: Float = 0.999
    @Option(help: "AdamW weight decay.") var weightDecay: Float = 1e-6
    @Option(help: "Gradient-norm clip (0 = none).") var clip: Float = 1
    @Option(help: "EMA maximum decay (0 = no EMA, as --no-ema).") var emaDecay: Double = 0.9999
    @Option(help: "EMA warm-up power: decay = min(max, 1 - n^-power).") var emaPower: Double = 0.75
    @Flag(help: "Save the raw weights instead of an EMA.") var noEma = false
    @Option(help: "Seed (batches, timesteps, noise).") var seed: UInt64 = 1
    @Option(help: "Training/held-out split seed (default: the one recorded in PRETRAINED, else 0).") var splitSeed: UInt64?
    @Option(name: .shortAndLong, help: "Output checkpoint (.safetensors; a UNet without extension: a diffusers folder).") var output: String
    @Option(help: "Also write the task-vector base here (PRETRAINED, with identity projections when they are on): the BASE for landscape/search/merge.") var writeBase: String?
    @Option(help: "Compute (OpenBLAS) threads.") var threads = 1
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        BLASThreads.set(threads)
        try OutputGuard.check(outputs: [output] + (writeBase.map { [$0] } ?? []), inputs: [pretrained, data])
        let model = try ModelCheckpoint.load(pretrained)
        let recorded = try Checkpoints.open(pretrained).metadata["tvtool.split_seed"].flatMap { UInt64($0) }
        let images = try dataShape.load(data)
        guard images.dimension == model.dataDimension else {
            throw TrainerError.badData(source: images.source, reason: "images are \(images.channels)×\(images.height)×\(images.width), the model \(pretrained) expects \(model.config.channels)×\(model.config.height)×\(model.config.width)")
        }
        let split = try DatasetSplit.standard(images, seed: splitSeed ?? recorded ?? 0)
        let options = FinetuneOptions(
            range: try TimestepRange.parse(tRange), steps: steps, globalProbability: p, consistencyWeight: consistency,
            projections: projections, batchSize: batch,
            optimizer: AdamWSettings(learningRate: lr, beta1: beta1, beta2: beta2, weightDecay: weightDecay, epsilon: 1e-8,
                                     gradientClip: clip > 0 ? clip : nil),
            ema: emaDecay > 0 && !noEma ? ExponentialMovingAverage.Settings(maxDecay: emaDecay, power: emaPower) : nil, seed: seed,
            horizontalFlip: hflip)
        let start = Date()
        let progress = ProgressReporter(label: "finetune \(tRange)", totalUnits: steps, unitName: "steps")
        var last: RangeFinetuner.Progress?
        let tuned = try RangeFinetuner.run(pretrained: model, train: split.train, options: options) { s in
            last = s
            progress.advance(status: String(format: "eps-MSE %.4f cons %.4f", s.loss, s.consistency))
        }
        progress.finish()
        try ModelCheckpoint.save(tuned, to: output, metadata: [FinetuneOptions.metadataKey: options.metadataJSON()], inputs: [pretrained])
        if let writeBase {
            // The base of this finetune's task vector: with projections, PRETRAINED expanded by identities.
            try ModelCheckpoint.save(projections ? model.expandingWithIdentityProjections() : model, to: writeBase, inputs: [pretrained])
        }
        let seconds = Date().timeIntervalSince(start)
        if json {
            let obj: [String: Any] = ["output": output, "t_range": tRange, "steps": steps, "seconds": seconds,
                                      "last_eps_mse": last?.loss ?? Double.nan, "last_consistency_mse": last?.consistency ?? Double.nan, "projections": projections]
            print(try JSONText.encode(obj))
        } else {
            print(String(format: "wrote %@ (range %@, %d steps, %.1f s; last batch eps-MSE %.4f, consistency %.4f)",
                         output, tRange, steps, seconds, last?.loss ?? .nan, last?.consistency ?? .nan))
        }
    }
}
