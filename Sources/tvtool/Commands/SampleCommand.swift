import ArgumentParser
import Foundation
import TVStorage
import TVTrainer

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Generate images from a trained model and write a PNG grid (and raw values).",
        discussion: """
            DDIM with --sampling-steps (eta 0: deterministic given the seed) or full DDPM ancestral \
            sampling with --ddpm. Predicted x0 is clipped to [-1, 1] at each step.

            Examples:
              tvtool sample pretrained.safetensors -n 64 -o grid.png
              tvtool sample merged.safetensors -n 1000 -o grid.png --raw samples.npy --sampling-steps 100 --eta 0.5
              tvtool sample pretrained.safetensors -n 16 -o grid.png --ddpm --seed 3
              tvtool sample ddpm-cifar10-32/ -n 16 -o grid.png --threads 2

            MODEL may be a diffusers UNet2DModel folder; 3-channel models give RGB grids.
            """)

    @Argument(help: "Model checkpoint written by tvtool train/finetune/merge, or a diffusers UNet2DModel folder.") var model: String
    @Option(name: .short, help: "Number of samples.") var n = 64
    @Option(name: [.short, .customLong("output")], help: "PNG grid to write.") var output: String
    @Option(help: "Also write the raw samples [n, C, H, W] as .npy or .safetensors.") var raw: String?
    @Option(help: "DDIM sampling steps.") var samplingSteps = 50
    @Option(help: "DDIM eta (0: deterministic).") var eta: Double = 0
    @Flag(help: "Use DDPM ancestral sampling over all T steps instead of DDIM.") var ddpm = false
    @Option(help: "Sampling seed.") var seed: UInt64 = 0
    @Option(help: "Grid columns (default: square-ish).") var columns: Int?
    @Option(help: "Pixel upscaling factor of the grid.") var scale = 4
    @Option(help: "OpenBLAS threads.") var threads = 1
    @Flag(help: "Print a JSON summary.") var json = false
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        guard n > 0, samplingSteps > 0, scale > 0, threads > 0 else { throw ValidationError("-n, --sampling-steps, --scale and --threads must be positive") }
        BLASThreads.set(threads)
        try OutputGuard.check(outputs: [output] + (raw.map { [$0] } ?? []), inputs: [model])
        let denoiser = try ModelCheckpoint.load(model)
        let kind: SamplerKind = ddpm ? .ddpm : .ddim(steps: samplingSteps, eta: eta)
        let schedule = denoiser.config.makeSchedule()
        let steps = ddpm ? schedule.timesteps : DiffusionSampler.ddimTimesteps(total: schedule.timesteps, steps: samplingSteps).count
        let progress = ProgressReporter(label: "sample", totalUnits: n * steps, unitName: "sample-steps", enabled: !quiet)
        let counted = CountingDenoiser(ModelThreads.denoiser(denoiser, threads: threads)) { progress.advance(units: $0) }
        let samples = DiffusionSampler.sample(counted, schedule: schedule, count: n, kind: kind, seed: seed)
        progress.finish()
        try SampleOutput.writeGrid(samples, config: denoiser.config, to: output, columns: columns, scale: scale)
        if let raw {
            try SampleOutput.writeRaw(samples, config: denoiser.config, to: raw, metadata: ["tvtool.sampling_seed": String(seed), "tvtool.model": model])
        }
        let sampler = ddpm ? "ddpm" : "ddim steps \(samplingSteps) eta \(eta)"
        if json {
            let doc: [String: Any] = ["model": model, "samples": n, "grid": output, "raw": raw ?? NSNull(), "seed": seed,
                                      "sampler": sampler, "sampling_steps": ddpm ? NSNull() : samplingSteps as Any]
            print(try JSONText.encode(doc))
        } else {
            print("wrote \(output) (\(n) samples, \(sampler), seed \(seed))" + (raw.map { " and \($0)" } ?? ""))
        }
    }
}
